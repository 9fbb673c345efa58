"""Field rules for accounts (`pooldesk_contract.accounts`), answered with a clear 4xx."""

from __future__ import annotations

from pooldesk_contract import accounts
from pooldesk_server.http.errors import validation_error


def check_username(username: str) -> str:
    if not accounts.is_username(username):
        raise validation_error(
            "Username must be 3-32 characters of lower-case letters, digits, _ or -"
        )
    return username


def check_email(email: str) -> str:
    email = email.strip()
    if not accounts.is_email(email):
        raise validation_error("Email address is not valid (expected name@example.com)")
    return email.lower()
