"""Claim codes: 80 random bits as 16 base32 characters (docs/provisioning.md §9).

Canonical form `KQ4M7XTZ2PB6WRHD` (manifest, device flash, key derivation); printed grouped
`KQ4M-7XTZ-2PB6-WRHD`; QR text `POOLDESK:1:ESP-A1B2C3:KQ4M7XTZ2PB6WRHD`.
"""

from __future__ import annotations

from pooldesk.core.failures import Code, Failure, failure
from pooldesk_contract import claimcode as contract
from pooldesk_contract.ids import normalize_device_id as contract_device_id

from .errors import ClaimCodeForOtherDevice, InvalidClaimCode

ALPHABET = contract.ALPHABET
LENGTH = contract.LENGTH
QR_PREFIX = contract.QR_PREFIX
generate = contract.generate
_CODES = {
    contract.Reason.LENGTH: Code.CLAIM_CODE_LENGTH,
    contract.Reason.CHARACTERS: Code.CLAIM_CODE_CHARACTERS,
}


def normalize(text: str) -> str:
    """Canonical form of a typed code; raises InvalidClaimCode with the reason's code."""
    cleaned = contract.clean(text)
    problem = contract.problem(cleaned)
    if problem:
        raise InvalidClaimCode(Failure(_CODES[problem.reason], problem.params))
    return cleaned


def grouped(code: str) -> str:
    """`KQ4M-7XTZ-2PB6-WRHD`, the printed form."""
    return contract.grouped(normalize(code))


def normalize_device_id(text: str) -> str:
    device_id = contract_device_id(text or "")
    if device_id is None:
        raise InvalidClaimCode(failure(Code.NOT_A_DEVICE_ID, text=repr(text)))
    return device_id


def qr_text(device_id: str, code: str) -> str:
    """The text encoded in the label's QR code."""
    return contract.qr_text(normalize_device_id(device_id), normalize(code))


def parse(text: str, expected_device_id: str | None = None) -> tuple[str | None, str]:
    """Read what an installer typed or pasted: a bare/grouped code or the QR text.

    Returns (device id named by the QR text or None, canonical code). When the QR text names
    another device than `expected_device_id`, raises ClaimCodeForOtherDevice.
    """
    stripped = (text or "").strip()
    if stripped.upper().startswith(QR_PREFIX):
        parts = stripped.split(":")
        if len(parts) != 4:
            raise InvalidClaimCode(failure(Code.QR_NOT_FROM_LABEL))
        device_id = normalize_device_id(parts[2])
        code = normalize(parts[3])
        if expected_device_id and normalize_device_id(expected_device_id) != device_id:
            raise ClaimCodeForOtherDevice(
                failure(
                    Code.LABEL_OF_OTHER_DEVICE, label=device_id, picked=expected_device_id.upper()
                )
            )
        return device_id, code
    return None, normalize(stripped)
