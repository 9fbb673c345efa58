"""Turn one MQTT message of a device into what the recorder stores (pure functions)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TOPIC = re.compile(r"users/([a-z0-9_-]{1,64})/devices/(esp-[0-9a-f]{6})/(.+)")
# topic under the device prefix -> event type stored in history
KINDS = {
    "status": "status",
    "pump/state": "state",
    "telemetry": "telemetry",
    "schedule": "schedule",
    "event": "event",
}


@dataclass(frozen=True)
class DeviceMessage:
    username: str
    device_id: str  # as stored: upper case, ESP-A1B2C3
    event_type: str
    data: Any
    ts: datetime | None  # from the payload's `ts`, if it had a valid one
    status: str | None  # "online"/"offline" for status messages


def parse_ts(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(UTC)


def _json(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return {"raw": payload[:1024].decode("utf-8", "replace")}


def interpret(topic: str, payload: bytes) -> DeviceMessage | None:
    """None for topics the recorder does not keep (commands, unknown layouts)."""
    match = TOPIC.fullmatch(topic)
    if match is None:
        return None
    username, device, rest = match.groups()
    device_id = device.upper()
    if rest == "status":
        text = payload.decode("utf-8", "replace").strip()[:16]
        status = text if text in ("online", "offline") else None
        return DeviceMessage(username, device_id, "status", {"status": text}, None, status)
    if rest.startswith("alert/") and rest.count("/") == 1:
        alert_id = rest.split("/", 1)[1]
        if not payload:
            return DeviceMessage(
                username, device_id, "alert", {"id": alert_id, "cleared": True}, None, None
            )
        data = _json(payload)
        ts = parse_ts(data.get("ts")) if isinstance(data, dict) else None
        body = data if isinstance(data, dict) else {"value": data}
        return DeviceMessage(username, device_id, "alert", {"id": alert_id, **body}, ts, None)
    kind = KINDS.get(rest)
    if kind is None:
        return None
    data = _json(payload)
    ts = parse_ts(data.get("ts")) if isinstance(data, dict) else None
    return DeviceMessage(username, device_id, kind, data, ts, None)
