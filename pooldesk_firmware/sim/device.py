"""The simulated hardware of one controller: MAC, flash folder, pins, clock, Wi-Fi, water.

This is the world the firmware lives in, not the firmware: it decides nothing the device
decides. Tests and the simulator drive it (advance the clock, change the water temperature,
hold the button, take a network away).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

EPOCH_2000 = 946684800  # where an ESP32's RTC starts after power-on
TICKS_PERIOD = 1 << 30  # MicroPython's ticks_ms() wraps at 2**30


class SimReset(BaseException):
    """Raised by `machine.reset()`: the simulator restarts the device's firmware."""


@dataclass
class FakeNetwork:
    """A Wi-Fi network the simulated radio can see. dhcp=False: it associates, no address."""

    ssid: str
    password: str
    rssi: int = -60
    security: int = 3  # MicroPython's code for WPA2-PSK
    dhcp: bool = True
    channel: int = 6


def default_networks() -> list[FakeNetwork]:
    return [
        FakeNetwork("PoolNet", "poolpass123", rssi=-52),
        FakeNetwork("Neighbour-5G", "not-yours-42", rssi=-78),
        FakeNetwork("GardenCafe", "", rssi=-83, security=0),
    ]


class SimClock:
    """World time (UTC) and the device's own clocks (ticks since boot, RTC).

    Real time passes as usual; `advance(seconds)` jumps the world forward, so a test can
    cross midnight, a DST change or a two-hour timer in a moment.
    """

    def __init__(self, utc_start: float | None = None) -> None:
        self._mono0 = time.monotonic()
        self._offset = 0.0
        self._utc0 = time.time() if utc_start is None else utc_start
        self._boot = 0.0
        self._rtc_base = (EPOCH_2000, 0.0)

    def elapsed(self) -> float:
        return time.monotonic() - self._mono0 + self._offset

    def utc(self) -> float:
        """The true UTC time of the simulated world (what NTP would say)."""
        return self._utc0 + self.elapsed()

    def set_utc(self, utc: float) -> None:
        """Move the world's time (forward or back) without touching the device's ticks."""
        self._utc0 = utc - self.elapsed()

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def power_on(self) -> None:
        """Ticks restart at 0 and the RTC at 2000-01-01, as after a real power-up."""
        self._boot = self.elapsed()
        self._rtc_base = (EPOCH_2000, self._boot)

    def ticks_ms(self) -> int:
        return int((self.elapsed() - self._boot) * 1000) % TICKS_PERIOD

    def rtc(self) -> int:
        base, at = self._rtc_base
        return int(base + self.elapsed() - at)

    def set_rtc(self, epoch: int) -> None:
        self._rtc_base = (epoch, self.elapsed())


class WaterModel:
    """Water temperature at the DS18B20. Default: a daily curve around `base_c`
    (coldest 06:00 UTC, warmest 18:00). Scriptable: `set(c)`, `ramp(...)`, `script(fn)`;
    `present = False` unplugs the sensor; `glitch = True` makes it read 85.0 (no conversion).
    """

    def __init__(self, base_c: float = 26.0, swing_c: float = 1.5) -> None:
        self.base_c = base_c
        self.swing_c = swing_c
        self.present = True
        self.glitch = False
        self._fn: Callable[[SimClock], float] | None = None

    def set(self, celsius: float) -> None:
        self._fn = lambda _clock: celsius

    def ramp(self, from_c: float, to_c: float, over_s: float, clock: SimClock) -> None:
        """Linear change from now, then hold `to_c`."""
        t0 = clock.elapsed()

        def fn(c: SimClock) -> float:
            x = min(1.0, max(0.0, (c.elapsed() - t0) / over_s)) if over_s > 0 else 1.0
            return from_c + (to_c - from_c) * x

        self._fn = fn

    def script(self, fn: Callable[[SimClock], float]) -> None:
        self._fn = fn

    def daily(self) -> None:
        self._fn = None

    def read(self, clock: SimClock) -> float | None:
        if not self.present:
            return None
        if self.glitch:
            return 85.0
        if self._fn is not None:
            return float(self._fn(clock))
        hours = (clock.utc() % 86400) / 3600
        return self.base_c - self.swing_c * math.cos((hours - 6) / 24 * 2 * math.pi)


@dataclass
class WlanState:
    active: bool = False
    ssid: str | None = None
    password: str | None = None
    status: int = 1000  # STAT_IDLE
    resolve_at: float = 0.0


@dataclass
class SimDevice:
    mac: bytes
    flash: Path
    networks: list[FakeNetwork] = field(default_factory=default_networks)
    clock: SimClock = field(default_factory=SimClock)
    water: WaterModel = field(default_factory=WaterModel)
    ntp_ok: bool = True
    wifi_delay_s: float = 0.05
    outputs: dict[int, int] = field(default_factory=dict)
    inputs: dict[int, int] = field(default_factory=dict)
    pin_changes: dict[int, int] = field(default_factory=dict)
    wlan: WlanState = field(default_factory=WlanState)
    reset_cause: int = 1  # machine.PWRON_RESET
    wdt_timeout_ms: int | None = None
    wdt_fed_at: float = 0.0
    boots: int = 0

    def power_on(self, cause: int) -> None:
        self.outputs.clear()
        self.wlan = WlanState()
        self.reset_cause = cause
        self.wdt_timeout_ms = None
        self.boots += 1
        self.clock.power_on()

    def power_off(self) -> None:
        self.outputs.clear()  # a de-energised relay is open: pump off
        self.wlan = WlanState()
        self.wdt_timeout_ms = None

    def network(self, ssid: str | None) -> FakeNetwork | None:
        for n in self.networks:
            if n.ssid == ssid:
                return n
        return None

    def pin(self, number: int) -> int:
        return self.outputs.get(number, 0)
