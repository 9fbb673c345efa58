"""The simulator's own pieces: ticks arithmetic, water curves, Wi-Fi table, CLI parsing."""

from __future__ import annotations

import argparse

import pytest

from pooldesk_firmware.sim.cli import parse_wifi
from pooldesk_firmware.sim.device import FakeNetwork, SimClock, WaterModel
from pooldesk_firmware.sim.loader import FirmwareImage
from pooldesk_firmware.sim.water import apply_spec


def test_ticks_wrap_like_micropython():
    time = FirmwareImage().module("time")  # MicroPython's, as the firmware sees it
    assert time.ticks_diff(time.ticks_add(2**30 - 10, 20), 2**30 - 10) == 20
    assert time.ticks_diff(5, 2**30 - 5) == 10
    assert time.ticks_diff(2**30 - 5, 5) == -10


def test_water_specs():
    clock = SimClock(utc_start=0)
    water = WaterModel()
    apply_spec(water, "constant:2.5", clock)
    assert water.read(clock) == 2.5
    apply_spec(water, "points:0=10,100=0", clock)
    clock.advance(50)
    assert water.read(clock) == pytest.approx(5.0, abs=0.1)
    clock.advance(500)
    assert water.read(clock) == 0.0
    apply_spec(water, "daily:20:2", clock)
    temps = []
    for _ in range(24):
        clock.advance(3600)
        temps.append(water.read(clock))
    assert min(temps) == pytest.approx(18.0, abs=0.1)
    assert max(temps) == pytest.approx(22.0, abs=0.1)
    apply_spec(water, "absent", clock)
    assert water.read(clock) is None
    with pytest.raises(ValueError, match="bad --water"):
        apply_spec(water, "ramp:1:2", clock)


def test_wifi_option():
    assert parse_wifi("Home:secret:-40") == FakeNetwork("Home", "secret", rssi=-40)
    assert parse_wifi("Cafe:").security == 0
    assert parse_wifi("Lab:pw:-70:nodhcp").dhcp is False
    for bad in ("nopassword", ":pw", "X:pw:loud", "X:pw:-1:maybe"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_wifi(bad)
