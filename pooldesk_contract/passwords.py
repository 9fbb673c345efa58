"""The password policy both sides apply: the character rules (`accounts.PASSWORD_MIN`, upper,
lower, digit, symbol) and a short blocklist of well-known passwords (`common_passwords.txt`,
package data, about 2 KB).

The backend refuses with `password_error`; the app ticks its live checklist with `is_common`, so a
checklist that is all ticked is a password the server accepts. Standard library only.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

from pooldesk_contract import accounts

MIN_LENGTH = accounts.PASSWORD_MIN
MAX_LENGTH = accounts.PASSWORD_MAX
LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
TRAILING_NOISE = re.compile(r"[\d\W_]+$")


@cache
def common_passwords() -> frozenset[str]:
    text = files("pooldesk_contract").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def _base_word(password: str) -> str:
    stripped = TRAILING_NOISE.sub("", password.lower())
    return stripped.translate(LEET)


def is_common(password: str, *, username: str = "") -> bool:
    """Whether `password` (or its base word: leet digits undone, trailing digits and symbols
    removed) is well known, or is the username in disguise."""
    lowered = password.lower()
    blocklist = common_passwords()
    if lowered in blocklist:
        return True
    base = _base_word(password)
    if base in blocklist or TRAILING_NOISE.sub("", lowered) in blocklist:
        return True
    return bool(username) and base == username.lower().translate(LEET)


def password_problems(password: str) -> list[str]:
    """Every unmet rule, in words a person can act on; empty when the password is fine."""
    problems: list[str] = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"at most {MAX_LENGTH} characters")
    has = accounts.password_classes(password)
    if not has["upper"]:
        problems.append("an uppercase letter")
    if not has["lower"]:
        problems.append("a lowercase letter")
    if not has["digit"]:
        problems.append("a number")
    if not has["symbol"]:
        problems.append("a special character (e.g. ! @ # $)")
    return problems


def password_error(password: str, *, username: str = "") -> str | None:
    """The server's message for a refused password, or None when it is acceptable."""
    problems = password_problems(password)
    if problems:
        return "Password needs " + ", ".join(problems)
    if is_common(password, username=username):
        return (
            "Password is too common or too close to your username; "
            "choose one that is not a well-known password"
        )
    return None
