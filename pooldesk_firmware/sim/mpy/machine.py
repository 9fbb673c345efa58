# Stand-in for the ESP32 port's `machine`: Pin, RTC, WDT, reset, soft_reset, unique_id,
# reset_cause. Input levels come from the world file (board_world); changes of the output pins
# the world lists in "report_pins" are printed as events; a reset ends the program (SystemExit),
# as the board would restart. The Unix port's own machine functions stay available.

import sys
import time

import board_world
from umachine import *  # noqa: F401,F403 - idle, mem8... of the Unix port

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5

_levels = {}
_EPOCH_2000 = 946684800


def _civil(days):
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if m <= 2 else 0), m, d


def _days(y, m, d):
    y -= 1 if m <= 2 else 0
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def epoch_to_rtc(t):
    days = t // 86400
    rem = t - days * 86400
    y, m, d = _civil(days)
    return (y, m, d, (days + 3) % 7, rem // 3600, rem // 60 % 60, rem % 60, 0)


def rtc_to_epoch(dt):
    return _days(dt[0], dt[1], dt[2]) * 86400 + dt[4] * 3600 + dt[5] * 60 + dt[6]


class Pin:
    IN = 1
    OUT = 3
    OPEN_DRAIN = 7
    PULL_UP = 2
    PULL_DOWN = 1
    IRQ_RISING = 1
    IRQ_FALLING = 2

    def __init__(self, id, mode=-1, pull=-1, *, value=None):
        self.id = id
        self.mode = mode
        self.pull = pull
        if value is not None:
            self.value(value)

    def init(self, mode=-1, pull=-1, *, value=None):
        self.__init__(self.id, mode, pull, value=value)

    def value(self, v=None):
        if v is None:
            if self.mode == Pin.OUT:
                return _levels.get(self.id, 0)
            pins = board_world.get()["pins"]
            default = 1 if self.pull == Pin.PULL_UP else 0
            return int(pins.get(str(self.id), default))
        level = 1 if v else 0
        if _levels.get(self.id) != level:
            _levels[self.id] = level
            if self.id in board_world.get()["report_pins"]:
                board_world.emit("pin", pin=self.id, value=level)
        return None

    __call__ = value

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class RTC:
    """Starts at 2000-01-01 00:00:00 at power-on (here: at import), like the ESP32's."""

    _base = [_EPOCH_2000, time.ticks_ms()]

    def datetime(self, dt=None):
        base, at = RTC._base
        if dt is None:
            return epoch_to_rtc(base + time.ticks_diff(time.ticks_ms(), at) // 1000)
        RTC._base = [rtc_to_epoch(dt), time.ticks_ms()]
        return None


class WDT:
    """Resets the board when not fed in time. Checked at each feed (this port has no timer
    interrupt): a stall is caught when the loop comes back, later than on the board."""

    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self._fed = time.ticks_ms()

    def feed(self):
        now = time.ticks_ms()
        if time.ticks_diff(now, self._fed) > self.timeout:
            board_world.emit("reset", cause="watchdog")
            sys.exit(3)
        self._fed = now


def unique_id():
    import binascii

    return binascii.unhexlify(board_world.get()["mac"])


def reset_cause():
    return board_world.get()["reset_cause"]


def reset():
    board_world.emit("reset", cause="machine.reset")
    sys.exit(3)


def soft_reset():
    board_world.emit("reset", cause="machine.soft_reset")
    sys.exit(3)
