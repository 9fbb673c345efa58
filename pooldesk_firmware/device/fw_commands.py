# Parsing of the commands a dashboard sends (docs/mqtt.md: pump/set, schedule/set).
# Every input a peer can send ends in a dict or a CommandError; nothing else escapes.

import json

import fw_schedule

MAX_PAYLOAD = 4096
_ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


class CommandError(Exception):
    """A command that fails a check: refused with code `invalid` (docs/mqtt.md), `field` the
    command's field at fault (None when the payload as a whole is unreadable)."""

    def __init__(self, reason, cmd_id=None, field=None):
        super().__init__(reason)
        self.reason = reason
        self.cmd_id = cmd_id
        self.field = field


def valid_cmd_id(v):
    if not isinstance(v, str) or not 1 <= len(v) <= 64:
        return False
    for ch in v:
        if ch not in _ID_CHARS:
            return False
    return True


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def load_object(payload):
    """bytes -> dict, or CommandError. Guards size, encoding, nesting and type."""
    if len(payload) > MAX_PAYLOAD:
        raise CommandError("payload too large")
    try:
        body = json.loads(payload.decode())
    except Exception:  # ValueError, UnicodeError, RecursionError: all mean "not JSON we accept"
        raise CommandError("payload is not valid JSON")
    if not isinstance(body, dict):
        raise CommandError("payload must be a JSON object")
    return body


def _cmd_id(body):
    cmd_id = body.get("cmd_id")
    if not valid_cmd_id(cmd_id):
        raise CommandError("cmd_id must be 1-64 characters of A-Z a-z 0-9 _ -", None, "cmd_id")
    return cmd_id


def cmd_id_of(payload):
    """The payload's cmd_id when it has a valid one, else None; never raises (for reports about
    commands that are refused before they are parsed)."""
    try:
        body = load_object(payload)
    except CommandError:
        return None
    cmd_id = body.get("cmd_id")
    return cmd_id if valid_cmd_id(cmd_id) else None


def parse_pump(payload):
    """pump/set -> {"cmd_id", "mode", "on", "duration_s"}."""
    body = load_object(payload)
    cmd_id = _cmd_id(body)
    mode = body.get("mode")
    on = body.get("on")
    if mode is None:
        if on is None:
            raise CommandError("command needs mode or on", cmd_id, "mode")
        mode = "manual"
    if mode not in ("manual", "schedule", "timer"):
        raise CommandError("mode must be manual, schedule or timer", cmd_id, "mode")
    cmd = {"cmd_id": cmd_id, "mode": mode, "on": None, "duration_s": None}
    if mode == "manual":
        if not isinstance(on, bool):
            raise CommandError("manual mode needs on: true or false", cmd_id, "on")
        cmd["on"] = on
    elif mode == "timer":
        d = body.get("duration_s")
        if not _is_int(d) or not 1 <= d <= 86400:
            raise CommandError("timer needs duration_s between 1 and 86400", cmd_id,
                               "duration_s")
        cmd["duration_s"] = d
    return cmd


def parse_schedule(payload):
    """schedule/set -> {"cmd_id", "schedule": {"tz", "windows"}}."""
    body = load_object(payload)
    cmd_id = _cmd_id(body)
    try:
        spec = fw_schedule.parse(body)
    except ValueError as e:
        raise CommandError(e.args[0], cmd_id, getattr(e, "field", None))
    return {"cmd_id": cmd_id, "schedule": spec}
