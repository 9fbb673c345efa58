"""Device ids `ESP-XXXXXX` (6 hex digits of the MAC); accepted in any case, stored upper case.

The forms and the claim-code reading are the contract's (`pooldesk_contract`); this module adds
the API's 4xx answer.
"""

from __future__ import annotations

from pooldesk_contract import claimcode
from pooldesk_contract.ids import normalize_device_id
from pooldesk_contract.topics import device_prefix
from pooldesk_server.http.errors import validation_error

__all__ = ["DEVICE_ID_HINT", "check_device_id", "normalize_claim_code", "normalize_device_id"]

DEVICE_ID_HINT = (
    "deviceId must look like ESP-XXXXXX, where XXXXXX is 6 hex digits (e.g. ESP-A1B2C3)"
)


def check_device_id(text: str) -> str:
    device_id = normalize_device_id(text)
    if device_id is None:
        raise validation_error(DEVICE_ID_HINT)
    return device_id


def topic_prefix(username: str, device_id: str) -> str:
    return device_prefix(username, device_id)


def normalize_claim_code(text: str) -> str:
    """Claim codes are compared as the app reads them: without spaces or dashes, case-insensitive,
    with 0/1/8 read as O/I/B (`pooldesk_contract.claimcode.clean`)."""
    return claimcode.clean(text)
