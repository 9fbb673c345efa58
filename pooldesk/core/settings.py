"""What the user chose (server URL, insecure opt-in, notifications) and the URL safety rules.

Stored by the UI in QSettings (`pooldesk.ui.settings_store`); this module only knows the values
and checks them, so the core can apply the same rules without Qt.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from pooldesk.core.failures import Code, Failure, failure

DEFAULT_SERVER_URL = "http://127.0.0.1:8788"
SERVER_SCHEMES = {"http", "https"}
BROKER_SCHEMES = {"mqtt", "mqtts", "ws", "wss"}
PLAIN_SCHEMES = {"http", "mqtt", "ws"}


@dataclass
class AppSettings:
    server_url: str = DEFAULT_SERVER_URL
    allow_insecure: bool = False
    notifications: bool = True
    server_confirmed: bool = False  # the first-run prompt was answered
    temperature_unit: str = ""  # "C", "F", or "" for the system's measurement system
    local_server: str = ""  # this computer runs the server: "systemd" (a user unit), "app"


class UnsafeUrlError(ValueError):
    """A URL the app refuses to use; `failure` says what to do (`str()`: in English)."""

    def __init__(self, problem: Failure) -> None:
        super().__init__(str(problem))
        self.failure = problem


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_url(url: str, allowed_schemes: set[str], allow_insecure: bool) -> str:
    """Return the URL without a trailing slash, or raise UnsafeUrlError with a clear message."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in allowed_schemes or not parts.hostname:
        schemes = ", ".join(f"{s}://" for s in sorted(allowed_schemes))
        raise UnsafeUrlError(failure(Code.URL_NOT_USABLE, schemes=schemes))
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise UnsafeUrlError(failure(Code.URL_BAD_PORT)) from None
    if parts.scheme in PLAIN_SCHEMES and not is_loopback(parts.hostname) and not allow_insecure:
        raise UnsafeUrlError(
            failure(Code.URL_NOT_ENCRYPTED, scheme=parts.scheme, host=parts.hostname)
        )
    return url


def check_server_url(url: str, allow_insecure: bool) -> str:
    return check_url(url, SERVER_SCHEMES, allow_insecure)


def check_broker_url(url: str, allow_insecure: bool) -> str:
    return check_url(url, BROKER_SCHEMES, allow_insecure)
