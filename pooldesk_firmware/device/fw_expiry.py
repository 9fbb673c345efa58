# Command deadlines (docs/mqtt.md: `expires` on pump/set and schedule/set).
# A dashboard tells the user a command failed when no echo came in time; the same command
# arriving later (a broker that was paused, a slow link) must not run behind the user's back.
# So a command may carry `expires` (UTC ISO-8601), and one that arrives after it is refused.

import json

import fw_time

# (code, field, reason) of the refusal (docs/mqtt.md `command_rejected`)
EXPIRED = ("expired", None, "command expired")
MALFORMED = ("invalid", "expires", "expires must be a UTC time like 2026-11-27T14:00:08Z")


def parse_iso(text):
    """'YYYY-MM-DDTHH:MM:SS[.fff]Z' -> UNIX seconds (int), or None when malformed."""
    if not isinstance(text, str) or len(text) < 20 or text[-1] != "Z":
        return None
    if text[4] != "-" or text[7] != "-" or text[10] != "T" or text[13] != ":" or text[16] != ":":
        return None
    if len(text) > 20 and text[19] != ".":
        return None
    parts = (text[0:4], text[5:7], text[8:10], text[11:13], text[14:16], text[17:19])
    for p in parts:
        if not p.isdigit():
            return None
    y, mo, d, h, mi, s = [int(p) for p in parts]
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h <= 23 and mi <= 59 and s <= 59):
        return None
    return fw_time.to_epoch(y, mo, d, h, mi, s)


def refusal(payload, now):
    """(code, field, reason) to refuse this command for its deadline, or None to go on.
    `now` is the device's UTC seconds, None while its clock is not set: then no command can be
    judged late, and it runs (the schedule waits for the clock; the user's command should not)."""
    try:
        body = json.loads(payload.decode())
    except Exception:
        return None  # the parser reports what is wrong with it
    if not isinstance(body, dict) or body.get("expires") is None:
        return None
    deadline = parse_iso(body.get("expires"))
    if deadline is None:
        return MALFORMED
    # The clock counts whole seconds: refuse from the deadline's own second on, so nothing
    # runs after the dashboard gave up (at most a second early, never late).
    if now is not None and now >= deadline:
        return EXPIRED
    return None
