"""Installer set-up codes (docs/sharing.md "Set-up codes"): their text, QR text and life.

A code is 12 Crockford base32 characters, shown `XXXX-XXXX-XXXX`; its QR code carries
`POOLDESK-SETUP:XXXX-XXXX-XXXX`. What an installer types or scans is normalised as the server
does (case, `-` and spaces, `O`→`0`, `I`/`L`→`1`), so a mistyped look-alike still fits.
"""

from __future__ import annotations

from datetime import datetime

import segno

from pooldesk.core.failures import Code, Failure, failure

QR_PREFIX = "POOLDESK-SETUP:"
LENGTH = 12
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


class InvalidSetupCode(ValueError):
    """The text is not a set-up code; `failure` says what is wrong (`str()` in English)."""

    def __init__(self, problem: Failure) -> None:
        super().__init__(str(problem))
        self.failure = problem


def normalize(text: str) -> str:
    """The 12 characters of a set-up code typed, grouped or scanned (its QR text)."""
    value = text.strip()
    if value.upper().startswith(QR_PREFIX):
        value = value[len(QR_PREFIX) :]
    value = "".join(value.split()).replace("-", "").upper().translate(_LOOK_ALIKES)
    if not value:
        raise InvalidSetupCode(failure(Code.SETUP_CODE_EMPTY))
    wrong = sorted({c for c in value if c not in CROCKFORD})
    if wrong:
        raise InvalidSetupCode(failure(Code.SETUP_CODE_CHARACTERS, characters="".join(wrong)))
    if len(value) != LENGTH:
        raise InvalidSetupCode(failure(Code.SETUP_CODE_LENGTH, length=LENGTH, count=len(value)))
    return value


def grouped(code: str) -> str:
    """`XXXX-XXXX-XXXX`, as the owner reads it out."""
    value = normalize(code)
    return "-".join(value[i : i + 4] for i in range(0, LENGTH, 4))


def qr_text(code: str) -> str:
    return QR_PREFIX + grouped(code)


def seconds_left(expires_at: datetime | None, now: datetime) -> int:
    """Whole seconds until the code expires (0 once it has)."""
    if expires_at is None:
        return 0
    return max(0, int((expires_at - now).total_seconds()))


def qr_modules(text: str) -> list[list[bool]]:
    """The QR code of `text` as rows of dark (True) and light modules, without the quiet
    zone (the view draws its own margin)."""
    qr = segno.make_qr(text, error="m")
    return [[bool(cell) for cell in row] for row in qr.matrix]
