# Weekly run windows in local wall-clock time, evaluated from a UTC instant.
# A window names the weekday it STARTS on; end < start means it runs into the next day.
# Membership is decided on the local wall clock, so "08:00-10:00" is 08:00-10:00 on both
# sides of a daylight-saving change (the window is shorter/longer in real time that day).

import fw_time
import fw_tz
import fw_tzdb

MAX_WINDOWS = 16
DEFAULT = {"tz": "UTC", "windows": []}


class Invalid(ValueError):
    """A check the schedule fails: args[0] the reason, `field` the field at fault (the
    contract's names: docs/mqtt.md `command_rejected`)."""

    def __init__(self, reason, field):
        super().__init__(reason)
        self.field = field


def _hhmm(w, field):
    try:
        return fw_time.parse_hhmm(w.get(field))
    except ValueError as e:
        raise Invalid(e.args[0], field)


def parse(spec):
    """Validate a schedule body ({"tz", "windows"}) -> a clean copy. Invalid with a reason."""
    if not isinstance(spec, dict):
        raise ValueError("schedule must be a JSON object")
    tz = spec.get("tz", "UTC")
    if not isinstance(tz, str) or not tz:
        raise Invalid("tz must be a time zone name", "tz")
    try:
        fw_tz.TzRule(fw_tzdb.rule_for(tz))
    except ValueError as e:
        raise Invalid(e.args[0], "tz")
    windows = spec.get("windows", [])
    if not isinstance(windows, list):
        raise Invalid("windows must be a list", "windows")
    if len(windows) > MAX_WINDOWS:
        raise Invalid("at most %d windows" % MAX_WINDOWS, "windows")
    clean = []
    for w in windows:
        if not isinstance(w, dict):
            raise Invalid("each window must be an object", "windows")
        start = _hhmm(w, "start")
        end = _hhmm(w, "end")
        if start == end or start == 1440:
            raise Invalid("window start and end must differ and start before 24:00",
                          "start" if start == 1440 else "end")
        days = w.get("days", list(fw_time.DAYS))
        if not isinstance(days, list) or not days:
            raise Invalid("days must be a non-empty list of mon..sun", "days")
        for d in days:
            if d not in fw_time.DAYS:
                raise Invalid("unknown day: %s" % (d,), "days")
        ordered = [d for d in fw_time.DAYS if d in days]
        clean.append({"start": w["start"], "end": w["end"], "days": ordered})
    return {"tz": tz, "windows": clean}


class Schedule:
    def __init__(self, spec):
        spec = parse(spec)
        self.spec = spec
        self.rule = fw_tz.TzRule(fw_tzdb.rule_for(spec["tz"]))
        self._windows = []
        for w in spec["windows"]:
            mask = 0
            for d in w["days"]:
                mask |= 1 << fw_time.DAYS.index(d)
            start = fw_time.parse_hhmm(w["start"])
            self._windows.append((start, fw_time.parse_hhmm(w["end"]), mask))

    def local_parts(self, t_utc):
        """(weekday Monday=0, minute of day) on the local wall clock."""
        local = self.rule.local(t_utc)
        days = local // 86400
        return fw_time.weekday(days), (local - days * 86400) // 60

    def is_on(self, t_utc):
        wday, minute = self.local_parts(t_utc)
        prev = (wday + 6) % 7
        for start, end, mask in self._windows:
            if start < end:
                if mask & (1 << wday) and start <= minute < end:
                    return True
            else:
                if mask & (1 << wday) and minute >= start:
                    return True
                if mask & (1 << prev) and minute < end:
                    return True
        return False
