"""How long a pump ran today and this week, from its recorded on/off history.

The recorder stores every `pump/state` report (docs/mqtt.md, type `state`, data `{"on": …}`).
The pump counts as running from a report with `on: true` until the next report, or until `now`
when it is the latest one. The state at the start of a period is that of the last report before
it, so the history is fetched from a little before the week starts (`history_since`).
A gap in the history longer than `max_gap` (the controller was offline, its reports not
recorded) is not counted as running: a pump whose controller went silent is not known to run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

PUMP_STATE_TYPE = "state"
# The controller reports its state on every change and again when it reconnects; a pump "on"
# for longer than this without any report is cut off here (it is only counted while known).
DEFAULT_MAX_GAP = timedelta(hours=24)


@dataclass(frozen=True)
class RunTime:
    today: timedelta
    week: timedelta


def period_starts(now: datetime, tz: tzinfo | None = None) -> tuple[datetime, datetime]:
    """Local midnight today and local midnight of this week's Monday (aware datetimes); `tz`
    None means the computer's time zone."""
    day = now.astimezone(tz).date()
    monday = day - timedelta(days=day.weekday())
    return _midnight(day, tz), _midnight(monday, tz)


def _midnight(day: date, tz: tzinfo | None) -> datetime:
    if tz is None:
        return datetime.combine(day, time()).astimezone()  # the local offset of that day
    return datetime.combine(day, time(), tzinfo=tz)


def history_since(now: datetime, tz: tzinfo | None = None) -> datetime:
    """Fetch from here: the week's start and the day before it (the state at Monday 00:00)."""
    return period_starts(now, tz)[1] - timedelta(days=1)


def states_from_history(events: Iterable[object]) -> list[tuple[datetime, bool]]:
    """(ts, on) of the pump-state events among `HistoryEvent`s, oldest first."""
    states = []
    for event in events:
        data = getattr(event, "data", None)
        if getattr(event, "type", None) == PUMP_STATE_TYPE and isinstance(data, dict):
            on = data.get("on")
            if isinstance(on, bool):
                states.append((event.ts, on))  # type: ignore[attr-defined]
    states.sort(key=lambda s: s[0])
    return states


def run_seconds(
    states: list[tuple[datetime, bool]],
    start: datetime,
    end: datetime,
    *,
    max_gap: timedelta = DEFAULT_MAX_GAP,
) -> timedelta:
    """Time the pump ran between `start` and `end`, `states` oldest first."""
    total = timedelta(0)
    for index, (ts, on) in enumerate(states):
        if not on:
            continue
        following = states[index + 1][0] if index + 1 < len(states) else end
        stop = min(following, ts + max_gap, end)
        begin = max(ts, start)
        if stop > begin:
            total += stop - begin
    return total


def run_time(
    states: list[tuple[datetime, bool]],
    now: datetime,
    tz: tzinfo | None = None,
    *,
    max_gap: timedelta = DEFAULT_MAX_GAP,
) -> RunTime:
    today, week = period_starts(now, tz)
    return RunTime(
        today=run_seconds(states, today, now, max_gap=max_gap),
        week=run_seconds(states, week, now, max_gap=max_gap),
    )


def format_duration(value: timedelta) -> tuple[int, int]:
    """(hours, minutes) rounded down to the minute, for the UI to word."""
    minutes = int(value.total_seconds()) // 60
    return divmod(minutes, 60)
