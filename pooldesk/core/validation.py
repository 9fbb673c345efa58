"""Input rules shared with the server, checked as the user types.

The texts are plain English; the UI translates them through Qt when it shows them.
"""

from __future__ import annotations

from dataclasses import dataclass

from pooldesk_contract import accounts, ids
from pooldesk_contract.passwords import is_common  # the one list, shared with the server

PASSWORD_MIN = accounts.PASSWORD_MIN
PASSWORD_MAX = accounts.PASSWORD_MAX
DEVICE_NAME_MAX = 64


@dataclass(frozen=True)
class Rule:
    """One password rule and whether the current text meets it."""

    text: str
    met: bool


def username_error(value: str) -> str | None:
    if not value:
        return "Enter a username."
    if not accounts.is_username(value):
        return "3 to 32 characters: lower-case letters, digits, '-' or '_'."
    return None


def email_error(value: str) -> str | None:
    if not value:
        return "Enter an email address."
    if not accounts.is_email(value.strip()):
        return "Enter an email address like name@example.com."
    return None


def password_rules(value: str, username: str = "") -> list[Rule]:
    """The server's password policy, one line per rule, for a live checklist. The list of
    well-known passwords is the contract's (`pooldesk_contract.passwords`), as the server's, so a
    checklist that is all ticked is a password the server accepts."""
    has = accounts.password_classes(value)
    return [
        Rule("At least 12 characters", len(value) >= PASSWORD_MIN),
        Rule("An upper-case letter", has["upper"]),
        Rule("A lower-case letter", has["lower"]),
        Rule("A digit", has["digit"]),
        Rule("A symbol such as ! or #", has["symbol"]),
        Rule(
            "Not a well-known password",
            bool(value) and not is_common(value, username=username),
        ),
    ]


def password_error(value: str, username: str = "") -> str | None:
    if len(value) > PASSWORD_MAX:
        return f"At most {PASSWORD_MAX} characters."
    missing = [rule.text for rule in password_rules(value, username) if not rule.met]
    if missing:
        return "The password needs: " + ", ".join(m.lower() for m in missing) + "."
    return None


def normalize_device_id(value: str) -> str:
    """Device ids are printed upper case; accept what people type (spaces, lower case)."""
    return value.strip().upper()


def device_id_error(value: str) -> str | None:
    if not value:
        return "Enter the device id from the controller's label."
    if ids.normalize_device_id(value) is None:
        return "The device id looks like ESP-A1B2C3 (ESP- and six hex digits)."
    return None


def device_name_error(value: str) -> str | None:
    name = value.strip()
    if not name:
        return "Enter a name."
    if len(name) > DEVICE_NAME_MAX:
        return f"At most {DEVICE_NAME_MAX} characters."
    return None


# Wi-Fi settings sent to a controller: the firmware's own checks (docs/provisioning.md §7,
# pooldesk_firmware/device/prov_check.py), so the wizard refuses exactly what the controller would.
WIFI_SSID_MAX_BYTES = 32
WIFI_PASSPHRASE_BYTES = (8, 63)  # a WPA passphrase, counted in UTF-8 bytes
WIFI_RAW_KEY_HEX = 64  # 64 hex digits: the raw WPA key
_HEX = frozenset("0123456789abcdefABCDEF")


def wifi_password_error(password: str) -> str | None:
    """None when the controller accepts `password` for a secured network: 8 to 63 bytes of
    UTF-8 (é or ñ take 2 bytes, many symbols 3) or exactly 64 hex digits."""
    if len(password) == WIFI_RAW_KEY_HEX and set(password) <= _HEX:
        return None
    low, high = WIFI_PASSPHRASE_BYTES
    if low <= len(password.encode("utf-8")) <= high:
        return None
    return (
        "A Wi-Fi password has 8 to 63 bytes (letters such as é or ñ count as two), "
        "or is a key of 64 hex digits."
    )


def wifi_choice_error(ssid: str, password: str, network_open: bool | None) -> str | None:
    """The network name and password the user chose. `network_open` is what the controller's
    scan said about the network, None for one typed under "Other network…" (which may be open,
    so an empty password is allowed there)."""
    if not ssid:
        return "Choose a network, or enter its name under “Other network…”."
    if len(ssid.encode("utf-8")) > WIFI_SSID_MAX_BYTES:
        return "A network name has at most 32 bytes."
    if network_open or (not password and network_open is None):
        return None
    if not password:
        return "Enter the network's password."
    return wifi_password_error(password)
