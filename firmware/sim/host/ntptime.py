"""Host stand-in for MicroPython's `ntptime`: sets the device's RTC from the world's UTC,
or fails like an unreachable NTP server when the simulated device has no NTP."""

from firmware.sim.context import current

host = "pool.ntp.org"
timeout = 1


def settime() -> None:
    dev = current()
    if not dev.ntp_ok or not dev.wlan.status == 1010:
        raise OSError(110, "ETIMEDOUT")
    dev.clock.set_rtc(int(dev.clock.utc()))
