"""Make `pooldesk_firmware/device/` importable and runnable under CPython.

`install()` puts the stand-ins (`pooldesk_firmware/sim/host/`) and the device folder first on
sys.path,
and gives CPython's `time` module MicroPython's ticks functions (`ticks_ms`, `ticks_add`,
`ticks_diff`, `sleep_ms`...). CPython's `time` is a built-in module that a file cannot
shadow, so the ticks functions are added to it; they read the clock of the simulated device of
the current context (real monotonic time outside one). The firmware reads wall-clock time from
`machine.RTC()`, never `time.time()`, so each simulated device keeps its own.
"""

from __future__ import annotations

import calendar
import sys
import time
from pathlib import Path

from pooldesk_firmware.sim.context import DEVICE
from pooldesk_firmware.sim.device import TICKS_PERIOD

HOST_DIR = Path(__file__).resolve().parent / "host"
DEVICE_DIR = Path(__file__).resolve().parent.parent / "device"


def _ticks_ms() -> int:
    dev = DEVICE.get(None)
    if dev is None:
        return int(time.monotonic() * 1000) % TICKS_PERIOD
    return dev.clock.ticks_ms()


def _ticks_us() -> int:
    return _ticks_ms() * 1000 % TICKS_PERIOD


def _ticks_add(ticks: int, delta: int) -> int:
    return (ticks + delta) % TICKS_PERIOD


def _ticks_diff(a: int, b: int) -> int:
    half = TICKS_PERIOD // 2
    return ((a - b + half) % TICKS_PERIOD) - half


def _sleep_ms(ms: int) -> None:
    time.sleep(ms / 1000)


def epoch_to_rtc(t: int) -> tuple:
    g = time.gmtime(t)
    return (g.tm_year, g.tm_mon, g.tm_mday, g.tm_wday, g.tm_hour, g.tm_min, g.tm_sec, 0)


def rtc_to_epoch(dt: tuple) -> int:
    return calendar.timegm((dt[0], dt[1], dt[2], dt[4], dt[5], dt[6], 0, 0, 0))


def install() -> None:
    for folder in (str(DEVICE_DIR), str(HOST_DIR)):
        if folder in sys.path:
            sys.path.remove(folder)
        sys.path.insert(0, folder)
    time.ticks_ms = _ticks_ms  # type: ignore[attr-defined]
    time.ticks_us = _ticks_us  # type: ignore[attr-defined]
    time.ticks_add = _ticks_add  # type: ignore[attr-defined]
    time.ticks_diff = _ticks_diff  # type: ignore[attr-defined]
    time.sleep_ms = _sleep_ms  # type: ignore[attr-defined]
