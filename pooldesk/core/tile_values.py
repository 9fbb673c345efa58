"""Values a pump tile shows beside the live state: the next scheduled run (from the schedule the
controller reported, docs/mqtt.md `schedule`), and the Wi-Fi signal and uptime it reports in its
telemetry (`rssi`, `uptime_s`). Qt-free; the UI words the results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# dBm at or above each bar count, the usual reading of a 2.4 GHz station's RSSI.
SIGNAL_BARS = ((-55, 4), (-67, 3), (-75, 2), (-85, 1))


@dataclass(frozen=True)
class Run:
    start: datetime  # aware, in the schedule's time zone
    end: datetime

    def running_at(self, now: datetime) -> bool:
        return self.start <= now < self.end


def _hhmm(text: Any) -> time | None:
    try:
        hours, minutes = str(text).split(":")
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        return None


def _zone(name: Any) -> tzinfo | None:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def next_run(schedule: dict[str, Any] | None, now: datetime) -> Run | None:
    """The window that runs now, else the next one to start (within 8 days); None without one.
    An end at or before the start runs past midnight into the next day (docs/mqtt.md)."""
    if not schedule:
        return None
    zone = _zone(schedule.get("tz"))
    windows = schedule.get("windows")
    if zone is None or not isinstance(windows, list):
        return None
    local_now = now.astimezone(zone)
    best: Run | None = None
    for day_offset in range(-1, 8):  # yesterday: a window crossing midnight may still run
        day: date = local_now.date() + timedelta(days=day_offset)
        for window in windows:
            if not isinstance(window, dict) or DAYS[day.weekday()] not in (
                window.get("days") or []
            ):
                continue
            start, end = _hhmm(window.get("start")), _hhmm(window.get("end"))
            if start is None or end is None:
                continue
            begin = datetime.combine(day, start, tzinfo=zone)
            finish = datetime.combine(
                day + timedelta(days=1 if end <= start else 0), end, tzinfo=zone
            )
            if finish <= local_now:
                continue
            if best is None or begin < best.start:
                best = Run(begin, finish)
    return best


def signal_bars(rssi: Any) -> int | None:
    """0-4 bars for a reported RSSI in dBm; None when it is not a plausible reading."""
    if isinstance(rssi, bool) or not isinstance(rssi, int | float) or not -120 <= rssi < 0:
        return None
    for threshold, bars in SIGNAL_BARS:
        if rssi >= threshold:
            return bars
    return 0


def uptime_now(uptime_s: Any, received: datetime | None, now: datetime) -> timedelta | None:
    """The controller's uptime now: what it reported plus the time since the report."""
    if isinstance(uptime_s, bool) or not isinstance(uptime_s, int | float) or uptime_s < 0:
        return None
    if received is None:
        return None
    return timedelta(seconds=float(uptime_s)) + max(now - received, timedelta(0))
