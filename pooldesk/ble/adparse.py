"""Advertising payloads (raw AD structures) into the fields of bleak's ``AdvertisementData``."""

from __future__ import annotations

import uuid as uuid_module
from collections.abc import Sequence
from dataclasses import dataclass, field

from bleak.uuids import normalize_uuid_str
from bumble.core import UUID as BumbleUUID

# AD types (Bluetooth Assigned Numbers, "Common Data Types")
_SERVICE_UUID_LISTS = {0x02: 2, 0x03: 2, 0x04: 4, 0x05: 4, 0x06: 16, 0x07: 16}
_SHORT_NAME = 0x08
_COMPLETE_NAME = 0x09
_TX_POWER = 0x0A
_SERVICE_DATA = {0x16: 2, 0x20: 4, 0x21: 16}
_MANUFACTURER = 0xFF


def uuid_from_le_bytes(data: bytes) -> str:
    """A 16/32/128-bit UUID as sent over the air (little-endian) in bleak's 128-bit form."""
    if len(data) == 16:
        return str(uuid_module.UUID(bytes=bytes(reversed(data))))
    return normalize_uuid_str(f"{int.from_bytes(data, 'little'):04x}")


def bumble_uuid_to_str(value: BumbleUUID) -> str:
    """A Bumble ``UUID`` as bleak writes UUIDs: 128-bit, lower case."""
    return uuid_from_le_bytes(value.to_bytes(force_128=True))


@dataclass
class ParsedAdvertisement:
    local_name: str | None = None
    manufacturer_data: dict[int, bytes] = field(default_factory=dict)
    service_data: dict[str, bytes] = field(default_factory=dict)
    service_uuids: list[str] = field(default_factory=list)
    tx_power: int | None = None


def parse_ad_structures(structures: Sequence[tuple[int, bytes]]) -> ParsedAdvertisement:
    """Collect the fields bleak reports; malformed structures are skipped, never fatal."""
    parsed = ParsedAdvertisement()
    short_name: str | None = None
    for ad_type, value in structures:
        ad_type = int(ad_type)
        value = bytes(value)
        if ad_type == _COMPLETE_NAME and parsed.local_name is None:
            parsed.local_name = value.decode("utf-8", errors="replace")
        elif ad_type == _SHORT_NAME and short_name is None:
            short_name = value.decode("utf-8", errors="replace")
        elif ad_type == _MANUFACTURER and len(value) >= 2:
            company = int.from_bytes(value[:2], "little")
            parsed.manufacturer_data.setdefault(company, value[2:])
        elif ad_type in _SERVICE_UUID_LISTS:
            size = _SERVICE_UUID_LISTS[ad_type]
            for start in range(0, len(value) - size + 1, size):
                text = uuid_from_le_bytes(value[start : start + size])
                if text not in parsed.service_uuids:
                    parsed.service_uuids.append(text)
        elif ad_type in _SERVICE_DATA and len(value) >= _SERVICE_DATA[ad_type]:
            size = _SERVICE_DATA[ad_type]
            parsed.service_data.setdefault(uuid_from_le_bytes(value[:size]), value[size:])
        elif ad_type == _TX_POWER and len(value) == 1 and parsed.tx_power is None:
            parsed.tx_power = int.from_bytes(value, "little", signed=True)
    if parsed.local_name is None:
        parsed.local_name = short_name
    return parsed
