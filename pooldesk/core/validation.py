"""Input rules shared with the server, checked as the user types.

A problem is a `Failure` (a code with its values); the UI words it in the user's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from pooldesk.core.failures import Code, Failure, failure
from pooldesk_contract import accounts, ids
from pooldesk_contract.passwords import is_common  # the one list, shared with the server

PASSWORD_MIN = accounts.PASSWORD_MIN
PASSWORD_MAX = accounts.PASSWORD_MAX
DEVICE_NAME_MAX = 64


@dataclass(frozen=True)
class Rule:
    """One password rule and whether the current text meets it."""

    text: Failure  # the rule, worded by the UI as a line of the checklist
    met: bool


def username_error(value: str) -> Failure | None:
    if not value:
        return failure(Code.USERNAME_EMPTY)
    if not accounts.is_username(value):
        return failure(Code.USERNAME_INVALID)
    return None


def email_error(value: str) -> Failure | None:
    if not value:
        return failure(Code.EMAIL_EMPTY)
    if not accounts.is_email(value.strip()):
        return failure(Code.EMAIL_INVALID)
    return None


def password_rules(value: str, username: str = "") -> list[Rule]:
    """The server's password policy, one line per rule, for a live checklist. The list of
    well-known passwords is the contract's (`pooldesk_contract.passwords`), as the server's, so a
    checklist that is all ticked is a password the server accepts."""
    has = accounts.password_classes(value)
    return [
        Rule(failure(Code.RULE_LENGTH, count=PASSWORD_MIN), len(value) >= PASSWORD_MIN),
        Rule(failure(Code.RULE_UPPER), has["upper"]),
        Rule(failure(Code.RULE_LOWER), has["lower"]),
        Rule(failure(Code.RULE_DIGIT), has["digit"]),
        Rule(failure(Code.RULE_SYMBOL), has["symbol"]),
        Rule(
            failure(Code.RULE_NOT_COMMON),
            bool(value) and not is_common(value, username=username),
        ),
    ]


def password_error(value: str, username: str = "") -> Failure | None:
    if len(value) > PASSWORD_MAX:
        return failure(Code.TOO_LONG, limit=PASSWORD_MAX)
    missing = tuple(rule.text for rule in password_rules(value, username) if not rule.met)
    if missing:
        return failure(Code.PASSWORD_NEEDS, rules=missing)
    return None


def normalize_device_id(value: str) -> str:
    """Device ids are printed upper case; accept what people type (spaces, lower case)."""
    return value.strip().upper()


def device_id_error(value: str) -> Failure | None:
    if not value:
        return failure(Code.DEVICE_ID_EMPTY)
    if ids.normalize_device_id(value) is None:
        return failure(Code.DEVICE_ID_INVALID)
    return None


def device_name_error(value: str) -> Failure | None:
    name = value.strip()
    if not name:
        return failure(Code.NAME_EMPTY)
    if len(name) > DEVICE_NAME_MAX:
        return failure(Code.TOO_LONG, limit=DEVICE_NAME_MAX)
    return None


# Wi-Fi settings sent to a controller: the firmware's own checks (docs/provisioning.md §7,
# pooldesk_firmware/device/prov_check.py), so the wizard refuses exactly what the controller would.
WIFI_SSID_MAX_BYTES = 32
WIFI_PASSPHRASE_BYTES = (8, 63)  # a WPA passphrase, counted in UTF-8 bytes
WIFI_RAW_KEY_HEX = 64  # 64 hex digits: the raw WPA key
_HEX = frozenset("0123456789abcdefABCDEF")


def wifi_password_error(password: str) -> Failure | None:
    """None when the controller accepts `password` for a secured network: 8 to 63 bytes of
    UTF-8 (é or ñ take 2 bytes, many symbols 3) or exactly 64 hex digits."""
    if len(password) == WIFI_RAW_KEY_HEX and set(password) <= _HEX:
        return None
    low, high = WIFI_PASSPHRASE_BYTES
    if low <= len(password.encode("utf-8")) <= high:
        return None
    return failure(Code.WIFI_PASSWORD_INVALID)


def wifi_choice_error(ssid: str, password: str, network_open: bool | None) -> Failure | None:
    """The network name and password the user chose. `network_open` is what the controller's
    scan said about the network, None for one typed under "Other network…" (which may be open,
    so an empty password is allowed there)."""
    if not ssid:
        return failure(Code.WIFI_NO_NETWORK)
    if len(ssid.encode("utf-8")) > WIFI_SSID_MAX_BYTES:
        return failure(Code.WIFI_SSID_TOO_LONG, limit=WIFI_SSID_MAX_BYTES)
    if network_open or (not password and network_open is None):
        return None
    if not password:
        return failure(Code.WIFI_PASSWORD_EMPTY)
    return wifi_password_error(password)
