"""Pump run time today and this week from the recorded on/off history (core.pump_runtime)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pooldesk.core.models import HistoryEvent
from pooldesk.core.pump_runtime import (
    history_since,
    period_starts,
    run_seconds,
    run_time,
    states_from_history,
)

MADRID = ZoneInfo("Europe/Madrid")


def at(day: int, hour: int, minute: int = 0, tz=MADRID) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=tz)  # 2026-12-07 is a Monday


def test_today_and_week_add_up_the_on_periods() -> None:
    states = [
        (at(6, 20), True),  # Sunday evening, the week before: runs past Monday 00:00
        (at(7, 1), False),  # 1 h of it in this week
        (at(8, 8), True),
        (at(8, 12), False),  # Tuesday 4 h
        (at(9, 8), True),  # Wednesday: still running at "now"
    ]
    now = at(9, 10, 30)
    result = run_time(states, now, MADRID)
    assert result.today == timedelta(hours=2, minutes=30)
    assert result.week == timedelta(hours=1 + 4 + 2.5)


def test_a_pump_on_before_midnight_counts_only_from_midnight_today() -> None:
    states = [(at(8, 22), True), (at(9, 2), False)]
    assert run_time(states, at(9, 12), MADRID).today == timedelta(hours=2)


def test_off_and_no_history_count_nothing() -> None:
    assert run_time([], at(9, 12), MADRID).week == timedelta(0)
    assert run_time([(at(9, 1), False)], at(9, 12), MADRID).today == timedelta(0)


def test_a_silent_controller_is_not_counted_as_running_for_days() -> None:
    states = [(at(7, 8), True)]  # then nothing was recorded (offline)
    assert run_seconds(states, at(7, 0), at(9, 12)) == timedelta(hours=24)


def test_the_week_starts_on_local_monday_midnight_across_a_dst_change() -> None:
    # Sunday 2026-03-29 Europe/Madrid goes from +01:00 to +02:00.
    now = datetime(2026, 3, 29, 12, 0, tzinfo=MADRID)
    today, week = period_starts(now, MADRID)
    assert (today.hour, today.utcoffset()) == (0, timedelta(hours=1))
    assert week.date().isoformat() == "2026-03-23"
    assert week.hour == 0
    assert history_since(now, MADRID) < week


def test_utc_timestamps_from_the_server_are_compared_in_local_time() -> None:
    events = [
        HistoryEvent.from_json({"deviceId": "ESP-A1B2C3", "type": "state",
                                "data": {"on": True}, "ts": "2026-12-08T23:30:00Z"}),
        HistoryEvent.from_json({"deviceId": "ESP-A1B2C3", "type": "telemetry",
                                "data": {"water_c": 24.1}, "ts": "2026-12-09T00:10:00Z"}),
        HistoryEvent.from_json({"deviceId": "ESP-A1B2C3", "type": "state",
                                "data": {"on": False}, "ts": "2026-12-09T00:30:00Z"}),
    ]  # fmt: skip
    states = states_from_history([e for e in events if e is not None])
    assert [on for _, on in states] == [True, False]
    # 00:30-01:30 Madrid on Wednesday 9th: 23:30Z is already the 9th in Madrid.
    result = run_time(states, datetime(2026, 12, 9, 12, tzinfo=UTC), MADRID)
    assert result.today == timedelta(hours=1)
