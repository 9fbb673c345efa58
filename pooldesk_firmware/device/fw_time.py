# Civil-time arithmetic on integer UNIX seconds (UTC).
# Integers only: the ESP32 build has single-precision floats, which cannot hold an epoch.

EPOCH_2000 = 946684800  # 2000-01-01T00:00:00Z, MicroPython's RTC/epoch origin on most ports
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def days_from_civil(y, m, d):
    """Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm)."""
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z):
    """(year, month, day) for a count of days since 1970-01-01."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    return y, m, d


def weekday(days):
    """Monday = 0 ... Sunday = 6 for a day count since 1970-01-01 (a Thursday)."""
    return (days + 3) % 7


def days_in_month(y, m):
    if m == 12:
        return 31
    return days_from_civil(y, m + 1, 1) - days_from_civil(y, m, 1)


def to_epoch(y, mo, d, h=0, mi=0, s=0):
    return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s


def split(t):
    """(year, month, day, hour, minute, second, weekday) of integer seconds."""
    days = t // 86400
    rem = t - days * 86400
    y, m, d = civil_from_days(days)
    return y, m, d, rem // 3600, (rem // 60) % 60, rem % 60, weekday(days)


def iso(t):
    """UTC ISO-8601 with a Z suffix, second precision; None stays None."""
    if t is None:
        return None
    y, m, d, hh, mm, ss, _ = split(t)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (y, m, d, hh, mm, ss)


def rtc_to_epoch(dt):
    """machine.RTC().datetime() tuple (y, m, d, weekday, h, mi, s, subsec) -> UNIX seconds."""
    return to_epoch(dt[0], dt[1], dt[2], dt[4], dt[5], dt[6])


def epoch_to_rtc(t):
    y, m, d, hh, mm, ss, wd = split(t)
    return (y, m, d, wd, hh, mm, ss, 0)


def parse_hhmm(text):
    """'HH:MM' -> minutes after midnight; '24:00' allowed as an end. ValueError otherwise."""
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        raise ValueError("time must be HH:MM")
    hh, mm = text[:2], text[3:]
    if not (hh.isdigit() and mm.isdigit()):
        raise ValueError("time must be HH:MM")
    h, m = int(hh), int(mm)
    if m > 59 or h > 24 or (h == 24 and m != 0):
        raise ValueError("time out of range: " + text)
    return h * 60 + m
