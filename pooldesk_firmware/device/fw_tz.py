# POSIX TZ rules ("CET-1CEST,M3.5.0,M10.5.0/3") -> UTC offset at an instant.
# The device has no tz database; fw_tzdb maps IANA names to these rules.

import fw_time


def _name(s, i):
    if i < len(s) and s[i] == "<":
        j = s.find(">", i)
        if j < 0:
            raise ValueError("unterminated <name> in time zone")
        return s[i + 1:j], j + 1
    j = i
    while j < len(s) and s[j].isalpha():
        j += 1
    if j - i < 3:
        raise ValueError("time zone name needs 3+ letters")
    return s[i:j], j


def _clock(s, i):
    """[+-]hh[:mm[:ss]] -> (seconds, next index)."""
    sign = 1
    if i < len(s) and s[i] in "+-":
        sign = -1 if s[i] == "-" else 1
        i += 1
    parts = []
    while True:
        j = i
        while j < len(s) and s[j].isdigit():
            j += 1
        if j == i or j - i > 3:
            raise ValueError("bad clock value in time zone")
        parts.append(int(s[i:j]))
        i = j
        if i < len(s) and s[i] == ":" and len(parts) < 3:
            i += 1
            continue
        break
    while len(parts) < 3:
        parts.append(0)
    if parts[0] > 167 or parts[1] > 59 or parts[2] > 59:
        raise ValueError("clock value out of range in time zone")
    return sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]), i


def _rule(s, i):
    """,Mm.w.d[/time] -> ((month, week, sunday_based_day, seconds), next index)."""
    if i >= len(s) or s[i] != ",":
        raise ValueError("time zone rule must start with ','")
    i += 1
    if i >= len(s) or s[i] != "M":
        raise ValueError("only Mm.w.d time zone rules are supported")
    i += 1
    nums = []
    for k in range(3):
        j = i
        while j < len(s) and s[j].isdigit():
            j += 1
        if j == i:
            raise ValueError("bad Mm.w.d rule in time zone")
        nums.append(int(s[i:j]))
        i = j
        if k < 2:
            if i >= len(s) or s[i] != ".":
                raise ValueError("bad Mm.w.d rule in time zone")
            i += 1
    m, w, d = nums
    if not (1 <= m <= 12 and 1 <= w <= 5 and 0 <= d <= 6):
        raise ValueError("Mm.w.d rule out of range in time zone")
    at = 7200
    if i < len(s) and s[i] == "/":
        at, i = _clock(s, i + 1)
    return (m, w, d, at), i


class TzRule:
    """Offsets are seconds EAST of UTC (the POSIX string writes them west, i.e. negated)."""

    def __init__(self, text):
        if not isinstance(text, str) or not text or len(text) > 64:
            raise ValueError("time zone must be a short string")
        self.text = text
        self.std_name, i = _name(text, 0)
        west, i = _clock(text, i)
        self.std = -west
        self.dst = None
        self.start = self.end = None
        if i < len(text):
            self.dst_name, i = _name(text, i)
            self.dst = self.std + 3600
            if i < len(text) and text[i] != ",":
                west, i = _clock(text, i)
                self.dst = -west
            self.start, i = _rule(text, i)
            self.end, i = _rule(text, i)
        if i != len(text):
            raise ValueError("unexpected text at the end of the time zone")

    def _transition(self, year, rule, offset):
        m, w, d, at = rule
        first = fw_time.days_from_civil(year, m, 1)
        first_sun_based = (fw_time.weekday(first) + 1) % 7
        day = 1 + (d - first_sun_based) % 7 + 7 * (w - 1)
        dim = fw_time.days_in_month(year, m)
        while day > dim:
            day -= 7
        return (first + day - 1) * 86400 + at - offset

    def offset(self, t):
        """Seconds to add to UTC instant t to get local wall-clock time."""
        if self.dst is None:
            return self.std
        year = fw_time.split(t + self.std)[0]
        start = self._transition(year, self.start, self.std)
        end = self._transition(year, self.end, self.dst)
        if start < end:
            in_dst = start <= t < end
        else:
            in_dst = not (end <= t < start)
        return self.dst if in_dst else self.std

    def local(self, t):
        return t + self.offset(t)
