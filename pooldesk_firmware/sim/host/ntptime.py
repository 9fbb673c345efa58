"""Host stand-in for MicroPython's `ntptime`: sets the device's RTC from the world's UTC, or,
when the simulated device has no NTP or no Wi-Fi, fails like an unanswered request: after
`timeout` seconds, with OSError(ETIMEDOUT). On the board settime() blocks the whole program
for that long; here it blocks the calling thread too (the simulator's event loop), so keep
`timeout` as the board has it."""

import time

from pooldesk_firmware.sim.context import current

host = "pool.ntp.org"
timeout = 1


def settime() -> None:
    dev = current()
    if not dev.ntp_ok or dev.wlan.status != 1010:
        time.sleep(timeout)
        raise OSError(110, "ETIMEDOUT")
    dev.clock.set_rtc(int(dev.clock.utc()))
