"""Next scheduled run, Wi-Fi signal bars and uptime for the pump tile (core.tile_values)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pooldesk.core.tile_values import next_run, signal_bars, uptime_now

MADRID = ZoneInfo("Europe/Madrid")
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def schedule(*windows: tuple[str, str, list[str]], tz: str = "Europe/Madrid") -> dict:
    return {"tz": tz, "windows": [{"start": s, "end": e, "days": d} for s, e, d in windows]}


def test_the_next_window_today_then_tomorrow() -> None:
    sched = schedule(("08:00", "12:00", EVERY_DAY))
    run = next_run(sched, datetime(2026, 12, 9, 6, 0, tzinfo=MADRID))
    assert run is not None
    assert run.start == datetime(2026, 12, 9, 8, 0, tzinfo=MADRID)
    run = next_run(sched, datetime(2026, 12, 9, 12, 0, tzinfo=MADRID))
    assert run is not None
    assert run.start.day == 10


def test_a_window_running_now_is_the_current_run() -> None:
    sched = schedule(("08:00", "12:00", EVERY_DAY), ("20:00", "21:00", EVERY_DAY))
    now = datetime(2026, 12, 9, 9, 30, tzinfo=MADRID)
    run = next_run(sched, now)
    assert run is not None
    assert run.running_at(now)
    assert run.end.hour == 12


def test_a_window_past_midnight_started_yesterday_still_runs() -> None:
    sched = schedule(("22:00", "02:00", ["tue"]))  # 2026-12-08 is a Tuesday
    now = datetime(2026, 12, 9, 1, 0, tzinfo=MADRID)
    run = next_run(sched, now)
    assert run is not None
    assert run.running_at(now)
    assert run.start.day == 8


def test_only_the_listed_days_and_the_schedules_zone() -> None:
    sched = schedule(("08:00", "09:00", ["sat"]), tz="America/New_York")
    run = next_run(sched, datetime(2026, 12, 9, 12, 0, tzinfo=UTC))  # Wednesday
    assert run is not None
    assert run.start.weekday() == 5
    assert run.start.utcoffset() == timedelta(hours=-5)


def test_no_schedule_or_a_broken_one_has_no_next_run() -> None:
    now = datetime(2026, 12, 9, tzinfo=UTC)
    assert next_run(None, now) is None
    assert next_run({"tz": "Europe/Madrid", "windows": []}, now) is None
    assert next_run({"tz": "Nowhere/City", "windows": [{"start": "08:00"}]}, now) is None
    assert next_run(schedule(("8", "x", EVERY_DAY)), now) is None


def test_signal_bars() -> None:
    assert [signal_bars(r) for r in (-40, -60, -70, -80, -90)] == [4, 3, 2, 1, 0]
    assert signal_bars(None) is None
    assert signal_bars(True) is None
    assert signal_bars(5) is None


def test_uptime_counts_on_from_the_report() -> None:
    received = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
    assert uptime_now(3600, received, received + timedelta(minutes=5)) == timedelta(minutes=65)
    assert uptime_now(None, received, received) is None
    assert uptime_now(-1, received, received) is None
