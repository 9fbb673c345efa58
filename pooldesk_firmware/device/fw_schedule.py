# Weekly run windows in local wall-clock time, evaluated from a UTC instant.
# A window names the weekday it STARTS on; end < start means it runs into the next day.
# Membership is decided on the local wall clock, so "08:00-10:00" is 08:00-10:00 on both
# sides of a daylight-saving change (the window is shorter/longer in real time that day).

import fw_time
import fw_tz
import fw_tzdb

MAX_WINDOWS = 16
DEFAULT = {"tz": "UTC", "windows": []}


def parse(spec):
    """Validate a schedule body ({"tz", "windows"}) -> a clean copy. ValueError with a reason."""
    if not isinstance(spec, dict):
        raise ValueError("schedule must be a JSON object")
    tz = spec.get("tz", "UTC")
    if not isinstance(tz, str) or not tz:
        raise ValueError("tz must be a time zone name")
    fw_tz.TzRule(fw_tzdb.rule_for(tz))
    windows = spec.get("windows", [])
    if not isinstance(windows, list):
        raise ValueError("windows must be a list")
    if len(windows) > MAX_WINDOWS:
        raise ValueError("at most %d windows" % MAX_WINDOWS)
    clean = []
    for w in windows:
        if not isinstance(w, dict):
            raise ValueError("each window must be an object")
        start = fw_time.parse_hhmm(w.get("start"))
        end = fw_time.parse_hhmm(w.get("end"))
        if start == end or start == 1440:
            raise ValueError("window start and end must differ and start before 24:00")
        days = w.get("days", list(fw_time.DAYS))
        if not isinstance(days, list) or not days:
            raise ValueError("days must be a non-empty list of mon..sun")
        for d in days:
            if d not in fw_time.DAYS:
                raise ValueError("unknown day: %s" % (d,))
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
