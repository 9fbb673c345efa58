"""Reading and checking JSON request bodies."""

from __future__ import annotations

import json
from typing import Any

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


def required_str(body: dict[str, Any], name: str, *, max_length: int = 1024) -> str:
    value = body.get(name)
    if value is None:
        raise validation_error(f"Missing required field: {name}")
    return _check_str(value, name, max_length)


def optional_str(body: dict[str, Any], name: str, *, max_length: int = 1024) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    return _check_str(value, name, max_length)


def _check_str(value: object, name: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise validation_error(f"Field {name} must be a string")
    if len(value) > max_length:
        raise validation_error(f"Field {name} must be at most {max_length} characters")
    if "\x00" in value:
        raise validation_error(f"Field {name} must not contain NUL characters")
    return value


def require_fields(body: dict[str, Any], names: tuple[str, ...]) -> None:
    """One message naming every missing field, as the seed's troubleshooting expects."""
    missing = [n for n in names if body.get(n) is None]
    if missing:
        raise validation_error("Missing required field(s): " + ", ".join(missing))
