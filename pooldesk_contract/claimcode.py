"""Claim codes: 80 random bits as 16 base32 characters (docs/provisioning.md §9).

Canonical form `KQ4M7XTZ2PB6WRHD`; printed grouped `KQ4M-7XTZ-2PB6-WRHD`. People copy codes
from a label, so both the app and the backend read a typed code the same way: spaces and dashes
dropped, upper case, and the digits that base32 leaves out read as the letters they resemble
(0 -> O, 1 -> I, 8 -> B).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from enum import StrEnum

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648 base32
LENGTH = 16
GROUP = 4
MISREAD = {"0": "O", "1": "I", "8": "B"}
QR_PREFIX = "POOLDESK:1:"  # the label's QR text: POOLDESK:1:ESP-A1B2C3:KQ4M7XTZ2PB6WRHD
_MISREAD = str.maketrans(MISREAD)


def generate() -> str:
    """A fresh claim code from the OS CSPRNG, canonical form."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def clean(text: str) -> str:
    """`text` without spaces or dashes, upper case, misread digits mapped. Not checked: see
    `problem` for whether the result is a well-formed code."""
    kept = "".join(ch for ch in (text or "") if not ch.isspace() and ch != "-")
    return kept.upper().translate(_MISREAD)


class Reason(StrEnum):
    """Why a typed code is not a claim code; each reader words it in its own way."""

    LENGTH = "length"  # params: length (the right one), count (this one's)
    CHARACTERS = "characters"  # params: characters (those outside the alphabet, space-separated)


_ENGLISH = {
    Reason.LENGTH: "A claim code has {length} letters and digits (like KQ4M-7XTZ-2PB6-WRHD); "
    "this one has {count}.",
    Reason.CHARACTERS: "A claim code uses only the letters A-Z and the digits 2-7; "
    "check these characters: {characters}.",
}


@dataclass(frozen=True)
class Problem:
    """What is wrong with a cleaned code: a reason and its values (`str()` is English)."""

    reason: Reason
    params: dict[str, str | int] = field(default_factory=dict)

    def __str__(self) -> str:
        return _ENGLISH[self.reason].format_map(self.params)


def problem(cleaned: str) -> Problem | None:
    """Why a cleaned code is not well formed, or None when it is."""
    if len(cleaned) != LENGTH:
        return Problem(Reason.LENGTH, {"length": LENGTH, "count": len(cleaned)})
    bad = sorted({c for c in cleaned if c not in ALPHABET})
    if bad:
        return Problem(Reason.CHARACTERS, {"characters": " ".join(bad)})
    return None


def grouped(code: str) -> str:
    """The printed form of a canonical code: groups of four joined by dashes."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def qr_text(device_id: str, code: str) -> str:
    """The text of a label's QR code, from a canonical device id and claim code."""
    return f"{QR_PREFIX}{device_id}:{code}"
