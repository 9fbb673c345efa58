"""Turn one MQTT message of a device into what the recorder stores (pure functions).

Devices are not trusted: whatever a payload holds (an out-of-range `ts`, NaN, deep nesting,
invalid UTF-8, megabytes), `interpret` returns something storable and JSON-safe; payloads that
are not plain, bounded JSON are kept as a `raw` text excerpt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pooldesk_contract import topics
from pooldesk_contract.ids import device_id_from_topic

TOPIC = topics.DEVICE_TOPIC
# topic under the device prefix -> event type stored in history
KINDS = topics.RECORDED
MAX_PAYLOAD_BYTES = 64 * 1024  # larger payloads are kept only as a raw excerpt
MAX_DEPTH = 32  # deeper JSON is kept only as a raw excerpt
RAW_EXCERPT = 1024


@dataclass(frozen=True)
class DeviceMessage:
    username: str
    device_id: str  # as stored: upper case, ESP-A1B2C3
    event_type: str
    data: Any
    ts: datetime | None  # from the payload's `ts`, if it had a valid one
    status: str | None  # "online"/"offline" for status messages
    # `data` already serialized the way the recorder stores it (compact, ASCII), when known
    text: str | None = field(default=None, compare=False, repr=False)


def stored_text(message: DeviceMessage) -> str:
    """The JSON text the recorder stores for a message."""
    if message.text is not None:
        return message.text
    return json.dumps(message.data, separators=(",", ":"))


def parse_ts(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            return None
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # e.g. 9999-12-31T23:59:59-01:00 is past datetime.max
        return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN/Infinity: the history API could not send them


# Built once: `json.loads`/`json.dumps` with options build a new decoder/encoder on every call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)  # ASCII, compact, finite


def _raw(payload: bytes) -> dict[str, Any]:
    return {"raw": payload[:RAW_EXCERPT].decode("utf-8", "replace")}


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def _json(payload: bytes) -> tuple[Any, str | None]:
    """The parsed payload and its stored text, or a raw excerpt (and no text) if unusable."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return {**_raw(payload), "size": len(payload)}, None
    try:
        # what json.loads does with bytes, minus building a decoder
        data = _DECODER.decode(payload.decode(json.detect_encoding(payload), "surrogatepass"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _raw(payload), None
    # Nesting depth is at most the number of brackets plus one: count them (in C) before walking.
    if payload.count(b"[") + payload.count(b"{") >= MAX_DEPTH and _depth(data) > MAX_DEPTH:
        return _raw(payload), None
    try:  # ASCII text: NUL and every non-ASCII character escaped; 1e999 (infinity) refused
        text = _ENCODER.encode(data)
    except ValueError:
        return _raw(payload), None
    if "\\ud" in text:  # maybe a lone surrogate, which the history API could not send
        try:
            json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (ValueError, UnicodeEncodeError):
            return _raw(payload), None
    return data, text


def interpret(topic: str, payload: bytes) -> DeviceMessage | None:
    """None for topics the recorder does not keep (commands, unknown layouts)."""
    match = TOPIC.fullmatch(topic)
    if match is None:
        return None
    username, device, rest = match.groups()
    device_id = device_id_from_topic(device)
    if not payload and not rest.startswith("alert/"):
        # An empty retained payload only deletes the retained message (the backend does that
        # when a device is unbound): it says nothing about the device.
        return None
    if rest == topics.STATUS.name:
        said = payload.decode("utf-8", "replace").strip()[:16]
        status = said if said in ("online", "offline") else None
        event = KINDS[topics.STATUS.name]
        return DeviceMessage(username, device_id, event, {"status": said}, None, status)
    if rest.startswith("alert/") and rest.count("/") == 1:
        alert_id = rest.split("/", 1)[1]
        if not payload:
            return DeviceMessage(
                username, device_id, "alert", {"id": alert_id, "cleared": True}, None, None
            )
        data, _text = _json(payload)
        ts = parse_ts(data.get("ts")) if isinstance(data, dict) else None
        body = data if isinstance(data, dict) else {"value": data}
        return DeviceMessage(username, device_id, "alert", {"id": alert_id, **body}, ts, None)
    kind = KINDS.get(rest)
    if kind is None:
        return None
    data, text = _json(payload)
    ts = parse_ts(data.get("ts")) if isinstance(data, dict) else None
    return DeviceMessage(username, device_id, kind, data, ts, None, text)
