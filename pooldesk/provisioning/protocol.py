"""Constants of the protocol that scanners and GATT links need (docs/provisioning.md §1-2)."""

from __future__ import annotations

from pooldesk_contract.ids import device_id_from_mac

SERVICE_UUID = "96271c13-a0f2-460a-af83-c4d98eedeb91"
ENDPOINT_UUIDS = {
    "device-info": "96270001-a0f2-460a-af83-c4d98eedeb91",
    "prov-session": "96270002-a0f2-460a-af83-c4d98eedeb91",
    "prov-config": "96270003-a0f2-460a-af83-c4d98eedeb91",
    "prov-scan": "96270004-a0f2-460a-af83-c4d98eedeb91",
    "prov-ctrl": "96270005-a0f2-460a-af83-c4d98eedeb91",
    "prov-status": "96270006-a0f2-460a-af83-c4d98eedeb91",
}
USER_DESCRIPTION_UUID = 0x2901
MANUFACTURER_ID = 0xFFFF


def parse_manufacturer_data(data: bytes) -> tuple[str, bool] | None:
    """(device id, bound) from the advertisement's manufacturer data, or None if not ours."""
    if len(data) != 7 or data[:2] != b"PD" or data[2] != 1:
        return None
    return device_id_from_mac(data[4:7]), bool(data[3] & 0x01)
