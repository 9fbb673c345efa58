# Stand-in for MicroPython's `ntptime`: settime() blocks the whole program (a UDP round trip on
# the board; `timeout` seconds, then OSError, when there is no answer) and sets the RTC to UTC.

import time

import board_world
import network

host = "pool.ntp.org"
timeout = 1


def time_now():
    return int(time.time()) + board_world.get().get("utc_shift_s", 0)


def settime():
    world = board_world.get()
    if not world["ntp"] or not network.WLAN(network.STA_IF).isconnected():
        time.sleep(timeout)
        raise OSError(110)  # ETIMEDOUT: no answer
    time.sleep(world["ntp_s"])
    import machine

    machine.RTC().datetime(machine.epoch_to_rtc(time_now()))
