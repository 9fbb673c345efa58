"""Host stand-in for MicroPython's `time` (the ESP32 port), one per simulated unit.

`ticks_ms()` counts from the unit's power-on on its simulated clock and wraps at 2**30, as on
the ESP32; compare ticks with `ticks_diff`, never with `-`. The loader sets `UNIT` (the unit's
`FirmwareImage`); a unit without simulated hardware (a test calling firmware functions
directly) counts on the host's monotonic clock, still wrapping. The sleeps block, as on the
board. Wall-clock functions (`time()`, `localtime()`...) are left out: the firmware reads the
date from `machine.RTC()`, and a firmware change that starts using them fails here at once.
"""

import time as _host_time

from pooldesk_firmware.sim.context import DEVICE
from pooldesk_firmware.sim.device import TICKS_PERIOD

UNIT = None  # the unit's FirmwareImage, set by pooldesk_firmware.sim.loader


def ticks_ms() -> int:
    dev = getattr(UNIT, "device", None) or DEVICE.get(None)
    if dev is None:
        return int(_host_time.monotonic() * 1000) % TICKS_PERIOD
    return dev.clock.ticks_ms()


def ticks_us() -> int:
    return ticks_ms() * 1000 % TICKS_PERIOD


def ticks_cpu() -> int:
    return ticks_us()


def ticks_add(ticks: int, delta: int) -> int:
    return (ticks + delta) % TICKS_PERIOD


def ticks_diff(ticks1: int, ticks2: int) -> int:
    half = TICKS_PERIOD // 2
    return ((ticks1 - ticks2 + half) % TICKS_PERIOD) - half


def sleep(seconds: float) -> None:
    _host_time.sleep(seconds)


def sleep_ms(ms: int) -> None:
    _host_time.sleep(ms / 1000)


def sleep_us(us: int) -> None:
    _host_time.sleep(us / 1_000_000)
