"""Device ids `ESP-XXXXXX` (6 hex digits of the MAC); accepted in any case, stored upper case."""

from __future__ import annotations

import re

from pooldesk_server.http.errors import validation_error

DEVICE_ID = re.compile(r"ESP-[0-9A-F]{6}")
DEVICE_ID_HINT = (
    "deviceId must look like ESP-XXXXXX, where XXXXXX is 6 hex digits (e.g. ESP-A1B2C3)"
)


def normalize_device_id(text: str) -> str | None:
    candidate = text.strip().upper()
    return candidate if DEVICE_ID.fullmatch(candidate) else None


def check_device_id(text: str) -> str:
    device_id = normalize_device_id(text)
    if device_id is None:
        raise validation_error(DEVICE_ID_HINT)
    return device_id


def topic_prefix(username: str, device_id: str) -> str:
    return f"users/{username}/devices/{device_id.lower()}"


def normalize_claim_code(text: str) -> str:
    """Claim codes are compared without spaces or dashes and case-insensitively."""
    return "".join(ch for ch in text.upper() if ch not in " -\t")
