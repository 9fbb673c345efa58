"""Pump modes, the timer, restarts and freeze protection: the pure decision logic."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest

from pooldesk_firmware.sim.loader import FirmwareImage

_firmware = FirmwareImage()  # the firmware's own modules, apart from this process's
fw_freeze = _firmware.module("fw_freeze")
fw_pump = _firmware.module("fw_pump")
fw_schedule = _firmware.module("fw_schedule")

MORNING = fw_schedule.Schedule({"tz": "UTC", "windows": [{"start": "08:00", "end": "10:00"}]})


def utc(*args: int) -> int:
    return calendar.timegm(dt.datetime(*args).timetuple())


def cmd(cmd_id: str, mode: str, on: bool | None = None, duration_s: int | None = None) -> dict:
    return {"cmd_id": cmd_id, "mode": mode, "on": on, "duration_s": duration_s}


def test_timer_runs_then_falls_back_to_the_schedule():
    pump = fw_pump.Pump()
    t0 = utc(2026, 11, 27, 12, 0)
    pump.apply(cmd("t1", "timer", duration_s=7200), t0, 1000, False)
    assert pump.evaluate(t0 + 7199, 1000 + 7199_000, MORNING, False)[:2] == (True, "timer")
    on, mode, _, must_save = pump.evaluate(t0 + 7200, 1000 + 7200_000, MORNING, False)
    assert (on, mode, must_save) == (False, "schedule", True)
    assert pump.saved()["mode"] == "schedule"
    assert pump.saved()["until"] is None


def test_timer_without_network_time_counts_ticks_and_gets_an_end_once_time_arrives():
    pump = fw_pump.Pump()
    pump.apply(cmd("t1", "timer", duration_s=60), None, 5000, False)
    assert pump.evaluate(None, 5000 + 30_000, MORNING, False)[:2] == (True, "timer")
    now = utc(2026, 11, 27, 12, 0)
    on, mode, _, must_save = pump.evaluate(now, 5000 + 40_000, MORNING, False)
    assert (on, mode, must_save) == (True, "timer", True)
    assert pump.until == now + 20
    assert pump.evaluate(None, 5000 + 60_000, MORNING, False)[:2] == (False, "schedule")


def test_after_a_power_cut_an_expired_timer_is_not_resumed():
    pump = fw_pump.Pump()
    t0 = utc(2026, 11, 27, 12, 0)
    pump.apply(cmd("t1", "timer", duration_s=3600), t0, 0, False)
    saved = pump.saved()
    rebooted = fw_pump.Pump(saved)  # power back 3 hours later; ticks restart at 0
    assert rebooted.cmd_id is None  # no stale command echoed
    # before the clock is known the timer cannot be trusted: off, not on
    assert rebooted.evaluate(None, 0, MORNING, False)[0] is False
    assert rebooted.evaluate(t0 + 3 * 3600, 100, MORNING, False)[:2] == (False, "schedule")


def test_after_a_power_cut_a_running_timer_resumes_until_its_end():
    pump = fw_pump.Pump()
    t0 = utc(2026, 11, 27, 12, 0)
    pump.apply(cmd("t1", "timer", duration_s=3600), t0, 0, False)
    rebooted = fw_pump.Pump(pump.saved())
    assert rebooted.evaluate(t0 + 600, 0, MORNING, False)[:2] == (True, "timer")
    assert rebooted.evaluate(t0 + 3600, 0, MORNING, False)[:2] == (False, "schedule")


def test_a_timer_started_without_time_is_dropped_by_a_restart():
    pump = fw_pump.Pump()
    pump.apply(cmd("t1", "timer", duration_s=3600), None, 0, False)
    assert fw_pump.Pump(pump.saved()).mode == "schedule"


def test_schedule_waits_without_time_and_says_so():
    pump = fw_pump.Pump()
    on, mode, waiting, _ = pump.evaluate(None, 0, MORNING, False)
    assert (on, mode, waiting) == (False, "schedule", True)
    on, mode, waiting, _ = pump.evaluate(utc(2026, 11, 27, 9, 0), 0, MORNING, False)
    assert (on, mode, waiting) == (True, "schedule", False)


def test_manual_mode_survives_a_restart_and_ignores_the_schedule():
    pump = fw_pump.Pump()
    pump.apply(cmd("m1", "manual", on=True), None, 0, False)
    rebooted = fw_pump.Pump(pump.saved())
    assert rebooted.evaluate(None, 0, MORNING, False)[:2] == (True, "manual")
    assert rebooted.seen("m1")


def test_freeze_overrides_every_mode_and_refuses_manual_off():
    pump = fw_pump.Pump()
    pump.apply(cmd("m1", "manual", on=False), None, 0, False)
    assert pump.evaluate(None, 0, MORNING, True)[:2] == (True, "freeze")
    with pytest.raises(fw_pump.Rejected, match="freeze"):
        pump.apply(cmd("m2", "manual", on=False), None, 0, True)
    pump.apply(cmd("s1", "schedule"), None, 0, True)  # allowed, the freeze still wins
    assert pump.evaluate(None, 0, MORNING, True)[:2] == (True, "freeze")


def test_recent_command_ids_are_bounded():
    pump = fw_pump.Pump()
    for i in range(40):
        pump.apply(cmd(f"c{i}", "schedule"), None, 0, False)
    assert len(pump.saved()["recent"]) == fw_pump.RECENT_IDS
    assert pump.seen("c39")
    assert not pump.seen("c0")


SETTINGS = {"on_below_c": 3.0, "off_above_c": 5.0, "min_run_s": 600, "stale_s": 120}


def test_freeze_hysteresis_and_minimum_run_time():
    g = fw_freeze.FreezeGuard(SETTINGS, 0)
    g.reading(4.0, 0)
    assert not g.evaluate(0)
    g.reading(3.0, 1000)
    assert g.evaluate(1000)  # at the threshold: on
    g.reading(4.5, 2000)
    assert g.evaluate(2000)  # between the thresholds: stays on
    g.reading(6.0, 60_000)
    assert g.evaluate(60_000)  # warm, but the minimum run time is not over
    g.reading(6.0, 601_000)
    assert not g.evaluate(601_000)
    g.reading(4.5, 602_000)
    assert not g.evaluate(602_000)  # between the thresholds: stays off


def test_stale_sensor_fails_safe_and_reports_it():
    g = fw_freeze.FreezeGuard(SETTINGS, 0)
    assert not g.stale(60_000)  # grace after boot
    assert not g.evaluate(60_000)
    assert g.stale(121_000)  # never read: missing sensor
    g.reading(1.0, 130_000)
    assert g.evaluate(130_000)
    assert not g.stale(130_000)
    g.reading(None, 200_000)  # failed reads do not refresh
    assert g.evaluate(250_000)
    assert g.stale(251_000)
    assert not g.evaluate(251_000)


def test_freeze_settings_are_validated():
    with pytest.raises(ValueError, match="above"):
        fw_freeze.parse({"on_below_c": 5, "off_above_c": 3})
    with pytest.raises(ValueError, match="min_run_s"):
        fw_freeze.parse({"min_run_s": -1})
