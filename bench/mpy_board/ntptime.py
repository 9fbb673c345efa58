# Bench stand-in for `ntptime` (frozen on ESP32_GENERIC): settime() sets the RTC to now (UTC).
import time

import machine

host = "pool.ntp.org"
timeout = 1


def settime():
    t = time.gmtime(time.time())
    machine.RTC().datetime((t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0))
