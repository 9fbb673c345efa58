# Bench stand-in for the ESP32 port's `machine` (RAM bench under the WebAssembly port only):
# the calls the firmware makes, with the ESP32's values, and nothing kept beyond what the
# board's own objects would hold. machine.reset() ends the run as the board would restart.
import time

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

MAC = b"\x24\x0a\xc4\xa1\xb2\xc3"
_rtc = [None]  # UTC seconds at the moment it was set, with the ticks then


def unique_id():
    return MAC


def reset_cause():
    return PWRON_RESET


def reset():
    raise SystemExit("machine.reset()")


class Pin:
    IN = 1
    OUT = 3
    PULL_UP = 1

    def __init__(self, number, mode=-1, pull=-1, value=None):
        self.number = number
        self._value = 1 if value is None else value  # an input with pull-up reads 1

    def value(self, v=None):
        if v is None:
            return self._value
        self._value = 1 if v else 0
        return None


class WDT:
    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout

    def feed(self):
        pass


class RTC:
    """Reads 2000-01-01 until ntptime sets it, then runs with the ticks clock."""

    def datetime(self, value=None):
        if value is not None:
            y, mo, d, _, h, mi, s = (
                value[0],
                value[1],
                value[2],
                value[3],
                value[4],
                value[5],
                value[6],
            )
            _rtc[0] = (time.mktime((y, mo, d, h, mi, s, 0, 0)), time.ticks_ms())
            return None
        if _rtc[0] is None:
            return (2000, 1, 1, 5, 0, 0, 0, 0)
        base, ticks = _rtc[0]
        t = time.gmtime(base + time.ticks_diff(time.ticks_ms(), ticks) // 1000)
        return (t[0], t[1], t[2], t[6], t[3], t[4], t[5], 0)
