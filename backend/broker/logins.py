"""Build the logins the backend hands out: fresh random passwords, fixed client ids, exact rights.

Naming: every login name and client id is made of `[a-z0-9_-]` and says what it is for, so the
broker's own logs and `list_logins()` can be read by a person.
"""

from __future__ import annotations

import secrets

from backend.broker.base import BrokerLogin
from backend.broker.rights import (
    dashboard_rights,
    device_level,
    device_rights,
    recorder_rights,
    topic_level,
)

PASSWORD_BYTES = 24  # 192 bits


def new_password() -> str:
    """A random password (192 bits, URL-safe base64)."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def _session_part(session_id: str) -> str:
    return topic_level(session_id.lower().replace("-", ""), "session id")


def dashboard_login_name(session_id: str) -> str:
    return f"app-{_session_part(session_id)}"


def dashboard_login(username: str, session_id: str, password: str | None = None) -> BrokerLogin:
    """The login of one signed-in app session (`GET /api/auth/mqtt-credentials`)."""
    name = dashboard_login_name(session_id)
    return BrokerLogin(
        username=name,
        password=password or new_password(),
        client_id=name,
        rights=dashboard_rights(username),
    )


def device_login_name(device_id: str) -> str:
    return f"dev-{device_level(device_id)}"


def device_login(username: str, device_id: str, password: str | None = None) -> BrokerLogin:
    """The login of one device (`POST /api/devices/{deviceId}/credentials`).

    The client id is the lower-case device id, so a device is recognisable in the broker's log.
    """
    return BrokerLogin(
        username=device_login_name(device_id),
        password=password or new_password(),
        client_id=device_level(device_id),
        rights=device_rights(username, device_id),
    )


def recorder_login(instance: str = "main", password: str | None = None) -> BrokerLogin:
    """The login of one recorder instance; instances share the `recorder` subscription group."""
    name = f"recorder-{topic_level(instance, 'recorder instance')}"
    return BrokerLogin(
        username=name, password=password or new_password(), client_id=name, rights=recorder_rights()
    )
