"""Reading and checking JSON request bodies."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import msgspec
from starlette.requests import Request

from pooldesk_server.http.errors import ApiError, validation_error
from pooldesk_server.http.query import MAX_DIGITS

INVALID_JSON = "Invalid JSON"


async def read_json_object(request: Request, max_bytes: int) -> dict[str, Any]:
    """The body as a JSON object; 413 past max_bytes, 400 "Invalid JSON" otherwise."""
    declared = request.headers.get("content-length")
    if (
        declared is not None
        and declared.isascii()
        and declared.isdigit()
        and (len(declared) > MAX_DIGITS or int(declared) > max_bytes)
    ):
        raise ApiError(413, "payload_too_large", f"Request body is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise ApiError(
                413, "payload_too_large", f"Request body is larger than {max_bytes} bytes"
            )
        chunks.append(chunk)
    raw = b"".join(chunks)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise ApiError(
            400,
            "invalid_json",
            f"{INVALID_JSON}: send the body with Content-Type: application/json",
        )
    try:
        value = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", INVALID_JSON) from None
    if not isinstance(value, dict):
        raise ApiError(400, "invalid_json", f"{INVALID_JSON}: the body must be a JSON object")
    return value


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return value


def _check_str(value: object, name: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise validation_error(f"Field {name} must be a string")
    if len(value) > max_length:
        raise validation_error(f"Field {name} must be at most {max_length} characters")
    if "\x00" in value:
        raise validation_error(f"Field {name} must not contain NUL characters")
    return value


B = TypeVar("B", bound=msgspec.Struct)


def _is_text(kind: msgspec.inspect.Type) -> msgspec.inspect.StrType | None:
    while isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    if isinstance(kind, msgspec.inspect.StrType):
        return kind
    if isinstance(kind, msgspec.inspect.UnionType):
        for member in kind.types:
            text = _is_text(member)
            if text is not None:
                return text
    return None


def parse_body(body: dict[str, Any], body_type: type[B]) -> B:
    """The body as `body_type` (pooldesk.core.api_types): every missing required field named in
    one message, then each text field checked for type, length and NUL. Rules beyond these
    (patterns, names, passwords) are the handler's, with their own messages."""
    info = msgspec.inspect.type_info(body_type)
    assert isinstance(info, msgspec.inspect.StructType)
    required = [f for f in info.fields if f.required]
    missing = [f.encode_name for f in required if body.get(f.encode_name) is None]
    if missing:
        if len(required) > 1:
            raise validation_error("Missing required field(s): " + ", ".join(missing))
        raise validation_error(f"Missing required field: {missing[0]}")
    values: dict[str, Any] = {}
    for f in info.fields:
        if f.encode_name not in body:
            continue
        value = body[f.encode_name]
        text = _is_text(f.type)
        if text is not None and value is not None:
            value = _check_str(value, f.encode_name, text.max_length or 1024)
        if value is None and not f.required and text is not None:
            continue
        values[f.name] = value
    return body_type(**values)


async def read_body(request: Request, body_type: type[B], max_bytes: int) -> B:
    return parse_body(await read_json_object(request, max_bytes), body_type)
