# IANA zone name -> POSIX TZ rule, for the zones a pool owner is likely to live in.
# The table is the data file fw_tzdb.txt beside this module ("name rule" a line), read line by
# line at each lookup: only the zone a unit uses is ever in RAM, never the other hundred.
# A schedule may also carry a POSIX rule directly.

import sys

TABLE = "fw_tzdb.txt"


def _join(folder, name):
    if not folder:
        return name
    if folder.endswith("/"):
        return folder + name
    return folder + "/" + name


def table_path():
    """Where fw_tzdb.txt is: beside this module, else on the module search path."""
    here = globals().get("__file__")
    folders = []
    if here:
        cut = here.rfind("/")
        folders.append(here[:cut] if cut >= 0 else "")
    for folder in sys.path:
        if isinstance(folder, str) and folder not in folders:
            folders.append(folder)
    for folder in folders:
        path = _join(folder, TABLE)
        try:
            open(path).close()
            return path
        except OSError:
            pass
    raise OSError("time-zone table %s not found" % TABLE)


def _split(line):
    """-> (name, rule) of one table line, or None for a comment or blank line."""
    line = line.strip()
    if not line or line[0] == "#":
        return None
    cut = line.find(" ")
    if cut <= 0:
        return None
    return line[:cut], line[cut + 1:]


def names():
    """Every zone name in the table (a list: for tests and tools, not for the device)."""
    out = []
    with open(table_path()) as f:
        for line in f:
            entry = _split(line)
            if entry is not None:
                out.append(entry[0])
    return out


def lookup(tz):
    """The POSIX rule of an IANA name in the table, or None. One line in RAM at a time."""
    with open(table_path()) as f:
        for line in f:
            entry = _split(line)
            if entry is not None and entry[0] == tz:
                return entry[1]
    return None


class _Zones:
    """The table as a read-only mapping that reads the file on every use (nothing kept)."""

    def __iter__(self):
        return iter(names())

    def __contains__(self, tz):
        return lookup(tz) is not None

    def __getitem__(self, tz):
        rule = lookup(tz)
        if rule is None:
            raise KeyError(tz)
        return rule


ZONES = _Zones()


def rule_for(tz):
    """POSIX rule text for an IANA name, or tz itself when it already is a POSIX rule."""
    if not isinstance(tz, str):
        raise ValueError("tz must be a time zone name")
    for ch in tz:
        if ch.isdigit():
            return tz
    rule = lookup(tz)
    if rule is None:
        raise ValueError("unknown time zone: " + tz)
    return rule
