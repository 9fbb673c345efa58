"""Device ids: `ESP-` and the last 6 hex digits of the MAC, printed upper case (`ESP-A1B2C3`),
lower case as a topic level (`esp-a1b2c3`). Accepted in any case, stored upper case."""

from __future__ import annotations

import re

PREFIX = "ESP-"
DEVICE_ID_PATTERN = r"ESP-[0-9A-F]{6}"  # the printed and stored form
TOPIC_ID_PATTERN = r"esp-[0-9a-f]{6}"  # the form in topics and MQTT client ids
ANY_CASE_PATTERN = "^[Ee][Ss][Pp]-[0-9A-Fa-f]{6}$"  # what the HTTP API accepts (OpenAPI)
DEVICE_ID = re.compile(DEVICE_ID_PATTERN)
TOPIC_ID = re.compile(TOPIC_ID_PATTERN)
EXAMPLE = "ESP-A1B2C3"


def normalize_device_id(text: str) -> str | None:
    """The stored form of what someone typed (spaces and lower case allowed), or None."""
    candidate = text.strip().upper() if isinstance(text, str) else ""
    return candidate if DEVICE_ID.fullmatch(candidate) else None


def is_device_id(text: str) -> bool:
    """True for the printed form exactly (`ESP-A1B2C3`), as advertised over BLE."""
    return isinstance(text, str) and DEVICE_ID.fullmatch(text) is not None


def device_id_from_mac(mac: bytes) -> str:
    """`ESP-` and the last three bytes of the MAC in hex, as the firmware derives it."""
    if len(mac) < 3:
        raise ValueError("a MAC has at least 3 bytes")
    return PREFIX + mac[-3:].hex().upper()


def topic_id(device_id: str) -> str:
    """A device id as a topic level: `ESP-A1B2C3` -> `esp-a1b2c3`."""
    return device_id.lower()


def device_id_from_topic(level: str) -> str:
    """A topic level back to the printed id: `esp-a1b2c3` -> `ESP-A1B2C3`."""
    return level.upper()
