"""Civil time, time-zone rules and weekly schedules: across midnight and daylight saving."""

from __future__ import annotations

import calendar
import datetime as dt
import zoneinfo

import pytest

from pooldesk_firmware.sim.loader import FirmwareImage

_firmware = FirmwareImage()  # the firmware's own modules, apart from this process's
fw_schedule = _firmware.module("fw_schedule")
fw_time = _firmware.module("fw_time")
fw_tz = _firmware.module("fw_tz")
fw_tzdb = _firmware.module("fw_tzdb")


def utc(*args: int) -> int:
    return calendar.timegm(dt.datetime(*args).timetuple())


def at_local(zone: str, *args: int) -> int:
    """UTC seconds of a local wall-clock time in an IANA zone (first occurrence)."""
    return int(dt.datetime(*args, tzinfo=zoneinfo.ZoneInfo(zone)).timestamp())


def test_civil_calendar_matches_python_for_three_centuries():
    for days in range(-40000, 80000, 13):
        d = dt.date(1970, 1, 1) + dt.timedelta(days=days)
        assert fw_time.civil_from_days(days) == (d.year, d.month, d.day)
        assert fw_time.days_from_civil(d.year, d.month, d.day) == days
        assert fw_time.weekday(days) == d.weekday()
    assert fw_time.iso(utc(2026, 11, 27, 14, 3, 12)) == "2026-11-27T14:03:12Z"


@pytest.mark.parametrize("zone", sorted(fw_tzdb.ZONES))
def test_every_zone_in_the_table_matches_the_tz_database(zone: str):
    rule = fw_tz.TzRule(fw_tzdb.rule_for(zone))
    tz = zoneinfo.ZoneInfo(zone)
    start = utc(2026, 1, 1)
    for t in range(start, start + 2 * 366 * 86400, 5 * 3600 + 13 * 60):
        expected = dt.datetime.fromtimestamp(t, tz).utcoffset().total_seconds()
        assert rule.offset(t) == expected, (zone, fw_time.iso(t))


def test_the_table_is_a_file_of_unique_zones_read_at_lookup(tmp_path, monkeypatch):
    names = fw_tzdb.names()
    assert len(names) == len(set(names)) == 106
    assert "Europe/Madrid" in fw_tzdb.ZONES
    assert "Mars/Olympus" not in fw_tzdb.ZONES
    # Nothing of the table stays in the module: every lookup reads the file again.
    table = tmp_path / "fw_tzdb.txt"
    table.write_text("# test table\nEurope/Madrid CET-1\n")
    monkeypatch.setattr(fw_tzdb, "table_path", lambda: str(table))
    assert fw_tzdb.rule_for("Europe/Madrid") == "CET-1"
    with pytest.raises(ValueError, match="unknown time zone: Europe/Paris"):
        fw_tzdb.rule_for("Europe/Paris")


def test_transition_instants_are_exact():
    madrid = fw_tz.TzRule(fw_tzdb.rule_for("Europe/Madrid"))
    spring = utc(2026, 3, 29, 1, 0)  # 02:00 CET -> 03:00 CEST
    assert madrid.offset(spring - 1) == 3600
    assert madrid.offset(spring) == 7200
    autumn = utc(2026, 10, 25, 1, 0)  # 03:00 CEST -> 02:00 CET
    assert madrid.offset(autumn - 1) == 7200
    assert madrid.offset(autumn) == 3600


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "CET",
        "C-1",
        "CET-1CEST,M13.1.0,M10.5.0",
        "CET-1CEST,J60,J300",
        "CET-1CEST,M3.5.0",
        "<+03",
        "CET-1xx",
        "Mars/Olympus",
    ],
)
def test_bad_time_zones_are_refused_with_a_reason(bad: str):
    with pytest.raises(ValueError):
        fw_tz.TzRule(fw_tzdb.rule_for(bad))


def sched(tz: str, *windows: tuple[str, str, list[str]]) -> fw_schedule.Schedule:
    return fw_schedule.Schedule(
        {"tz": tz, "windows": [{"start": s, "end": e, "days": d} for s, e, d in windows]}
    )


def test_window_across_midnight_runs_into_the_next_day_only_from_its_start_day():
    s = sched("UTC", ("22:00", "02:00", ["fri"]))
    assert not s.is_on(utc(2026, 11, 27, 21, 59))  # Friday
    assert s.is_on(utc(2026, 11, 27, 22, 0))
    assert s.is_on(utc(2026, 11, 27, 23, 59))
    assert s.is_on(utc(2026, 11, 28, 0, 0))  # Saturday, still Friday's window
    assert s.is_on(utc(2026, 11, 28, 1, 59))
    assert not s.is_on(utc(2026, 11, 28, 2, 0))
    assert not s.is_on(utc(2026, 11, 28, 22, 30))  # Saturday evening: no window starts
    assert not s.is_on(utc(2026, 11, 27, 1, 0))  # Friday 01:00 belongs to Thursday


def test_window_ending_at_midnight_and_day_after_day():
    s = sched("UTC", ("20:00", "24:00", ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]))
    for day in range(23, 30):
        assert s.is_on(utc(2026, 11, day, 23, 59))
        assert not s.is_on(utc(2026, 11, day, 0, 0) + 86400)
        assert not s.is_on(utc(2026, 11, day, 19, 59))


def test_windows_follow_the_local_wall_clock_across_both_dst_changes():
    s = sched("Europe/Madrid", ("08:00", "10:00", ["sun", "mon"]))
    # Sunday 2026-03-29 (spring forward at 02:00): 08:00 CEST = 06:00 UTC
    assert s.is_on(at_local("Europe/Madrid", 2026, 3, 29, 8, 0))
    assert not s.is_on(at_local("Europe/Madrid", 2026, 3, 29, 7, 59))
    assert not s.is_on(utc(2026, 3, 29, 8, 0))  # 10:00 local
    # the Saturday before: 08:00 CET = 07:00 UTC, and Saturday has no window
    assert not s.is_on(utc(2026, 3, 28, 7, 0))
    # Sunday 2026-10-25 (fall back at 03:00): 08:00 CET = 07:00 UTC
    assert s.is_on(utc(2026, 10, 25, 7, 0))
    assert not s.is_on(utc(2026, 10, 25, 6, 59))
    assert s.is_on(utc(2026, 10, 26, 8, 59))  # Monday 09:59 CET


def test_night_window_spanning_the_dst_change_keeps_wall_clock_ends():
    s = sched("America/New_York", ("23:00", "06:00", ["sat"]))
    # Saturday 2026-03-07 23:00 EST .. Sunday 06:00 EDT (clocks jump 02:00 -> 03:00): 6 real hours
    on = at_local("America/New_York", 2026, 3, 7, 23, 0)
    off = at_local("America/New_York", 2026, 3, 8, 6, 0)
    assert off - on == 6 * 3600
    assert s.is_on(on)
    assert s.is_on(off - 60)
    assert not s.is_on(off)
    assert not s.is_on(on - 60)
    # in the skipped hour the schedule keeps running
    assert s.is_on(utc(2026, 3, 8, 7, 30))


def test_southern_hemisphere_dst_spans_new_year():
    s = sched("Australia/Sydney", ("07:00", "09:00", ["thu"]))
    assert s.is_on(at_local("Australia/Sydney", 2026, 1, 1, 7, 30))  # AEDT, UTC+11
    assert s.is_on(at_local("Australia/Sydney", 2026, 7, 2, 7, 30))  # AEST, UTC+10
    assert not s.is_on(at_local("Australia/Sydney", 2026, 7, 2, 9, 0))


def test_posix_rule_is_accepted_directly():
    s = sched("CET-1CEST,M3.5.0,M10.5.0/3", ("12:00", "13:00", ["wed"]))
    assert s.is_on(utc(2026, 7, 1, 10, 30))


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ({"tz": "UTC", "windows": [{"start": "8:00", "end": "10:00"}]}, "HH:MM"),
        ({"tz": "UTC", "windows": [{"start": "10:00", "end": "10:00"}]}, "differ"),
        ({"tz": "UTC", "windows": [{"start": "10:00", "end": "24:01"}]}, "range"),
        ({"tz": "UTC", "windows": [{"start": "10:00", "end": "11:00", "days": ["funday"]}]}, "day"),
        ({"tz": "UTC", "windows": [{"start": "10:00", "end": "11:00", "days": []}]}, "days"),
        ({"tz": "Nowhere/City", "windows": []}, "unknown time zone"),
        ({"tz": "UTC", "windows": [{"start": "01:00", "end": "02:00"}] * 17}, "at most"),
    ],
)
def test_invalid_schedules_are_refused_with_a_reason(spec: dict, reason: str):
    with pytest.raises(ValueError, match=reason):
        fw_schedule.parse(spec)
