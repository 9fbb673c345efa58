"""Host stand-in for MicroPython's `machine` (Pin, WDT, RTC, unique_id, reset, reset_cause).

State lives on the simulated device of the current context; no firmware logic here.
"""

from __future__ import annotations

import calendar
import time

from pooldesk_firmware.sim.context import current
from pooldesk_firmware.sim.device import SimReset

PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET, SOFT_RESET = 1, 2, 3, 4, 5


class Pin:
    IN, OUT, OPEN_DRAIN = 1, 3, 7
    PULL_UP, PULL_DOWN = 1, 2

    def __init__(self, id: int, mode: int = -1, pull: int = -1, *, value: int | None = None):
        self._dev = current()
        self.id = id
        self.mode = mode
        self.pull = pull
        if mode == Pin.IN and pull == Pin.PULL_UP:
            self._dev.inputs.setdefault(id, 1)
        if value is not None:
            self.value(value)

    def value(self, v: int | bool | None = None) -> int | None:
        if v is None:
            if self.mode == Pin.IN:
                return self._dev.inputs.get(self.id, 0)
            return self._dev.outputs.get(self.id, 0)
        level = 1 if v else 0
        if self._dev.outputs.get(self.id, 0) != level:
            self._dev.pin_changes[self.id] = self._dev.pin_changes.get(self.id, 0) + 1
        self._dev.outputs[self.id] = level
        return None

    __call__ = value

    def on(self) -> None:
        self.value(1)

    def off(self) -> None:
        self.value(0)


class WDT:
    def __init__(self, id: int = 0, timeout: int = 5000) -> None:
        self._dev = current()
        self._dev.wdt_timeout_ms = timeout
        self.feed()

    def feed(self) -> None:
        self._dev.wdt_fed_at = time.monotonic()


def _epoch_to_rtc(t: int) -> tuple:
    g = time.gmtime(t)
    return (g.tm_year, g.tm_mon, g.tm_mday, g.tm_wday, g.tm_hour, g.tm_min, g.tm_sec, 0)


def _rtc_to_epoch(dt: tuple) -> int:
    return calendar.timegm((dt[0], dt[1], dt[2], dt[4], dt[5], dt[6], 0, 0, 0))


class RTC:
    def __init__(self) -> None:
        self._dev = current()

    def datetime(self, dt: tuple | None = None) -> tuple | None:
        if dt is None:
            return _epoch_to_rtc(self._dev.clock.rtc())
        self._dev.clock.set_rtc(_rtc_to_epoch(dt))
        return None


def unique_id() -> bytes:
    return current().mac


def reset() -> None:
    raise SimReset("machine.reset()")


def soft_reset() -> None:
    raise SimReset("machine.soft_reset()")


def reset_cause() -> int:
    return current().reset_cause
