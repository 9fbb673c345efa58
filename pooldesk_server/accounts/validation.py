"""Field rules for accounts. Usernames become MQTT topic levels: only [a-z0-9_-]."""

from __future__ import annotations

import re

from pooldesk_server.http.errors import validation_error

USERNAME = re.compile(r"[a-z0-9_-]{3,32}")
# Practical address syntax: one @, a dot-separated domain with a 2+ letter top level, no spaces.
EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


def check_username(username: str) -> str:
    if not USERNAME.fullmatch(username):
        raise validation_error(
            "Username must be 3-32 characters of lower-case letters, digits, _ or -"
        )
    return username


def check_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not EMAIL.fullmatch(email) or ".." in email:
        raise validation_error("Email address is not valid (expected name@example.com)")
    return email.lower()
