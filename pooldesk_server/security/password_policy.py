"""The password policy, which lives in the contract (`pooldesk_contract.passwords`) so the app
applies the same rules without importing the server; re-exported here for the server's modules."""

from __future__ import annotations

from pooldesk_contract.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    common_passwords,
    is_common,
    password_error,
    password_problems,
)

__all__ = [
    "MAX_LENGTH",
    "MIN_LENGTH",
    "common_passwords",
    "is_common",
    "password_error",
    "password_problems",
]
