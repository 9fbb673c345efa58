"""Account field rules, checked by the backend and, as the user types, by the app.

Usernames become MQTT topic levels (`users/<username>/...`), so they use `[a-z0-9_-]` only.
"""

from __future__ import annotations

import re

USERNAME_PATTERN = r"[a-z0-9_-]{3,32}"
USERNAME = re.compile(USERNAME_PATTERN)
# Practical address syntax: one @, a dot-separated domain with a 2+ letter top level, no spaces.
EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
EMAIL_MAX = 254
PASSWORD_MIN = 12
PASSWORD_MAX = 256


def is_username(value: str) -> bool:
    return USERNAME.fullmatch(value) is not None


def is_email(value: str) -> bool:
    """Whether `value` (already stripped) is an address the backend accepts."""
    return len(value) <= EMAIL_MAX and EMAIL.fullmatch(value) is not None and ".." not in value


def password_classes(value: str) -> dict[str, bool]:
    """Which of the required kinds of character `value` has."""
    return {
        "upper": any(c.isupper() for c in value),
        "lower": any(c.islower() for c in value),
        "digit": any(c.isdigit() for c in value),
        "symbol": any(not c.isalnum() for c in value),
    }
