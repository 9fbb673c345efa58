"""Build the logins the backend hands out: fresh random passwords, fixed client ids, exact rights.

Naming: every login name and client id is made of `[a-z0-9_-]` and says what it is for, so the
broker's own logs and `list_logins()` can be read by a person.
"""

from __future__ import annotations

import secrets

from pooldesk_server.broker.base import BrokerLogin
from pooldesk_server.broker.rights import (
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


def new_generation() -> str:
    """A fresh suffix for a login name: every issue makes a login of its own (see `_named`)."""
    return secrets.token_hex(4)


def _named(base: str, generation: str | None) -> str:
    """`base`, or `base-<generation>`.

    The backend issues each credential under a new name (the client id stays fixed), so a
    rotation never changes the login it replaces: if issuing fails half-way (broker paused,
    timeout), the old login is untouched and only the new, never handed out one is removed.
    """
    if generation is None:
        return base
    return f"{base}-{topic_level(generation, 'login generation')}"


def dashboard_login_name(session_id: str, generation: str | None = None) -> str:
    return _named(f"app-{_session_part(session_id)}", generation)


def dashboard_login(
    username: str, session_id: str, password: str | None = None, generation: str | None = None
) -> BrokerLogin:
    """The login of one signed-in app session (`GET /api/auth/mqtt-credentials`).

    The client id is `app-<session>` whatever the generation, so the session keeps one MQTT
    client id across rotations."""
    return BrokerLogin(
        username=dashboard_login_name(session_id, generation),
        password=password or new_password(),
        client_id=dashboard_login_name(session_id),
        rights=dashboard_rights(username),
    )


def device_login_name(device_id: str, generation: str | None = None) -> str:
    return _named(f"dev-{device_level(device_id)}", generation)


def device_login(
    username: str, device_id: str, password: str | None = None, generation: str | None = None
) -> BrokerLogin:
    """The login of one device (`POST /api/devices/{deviceId}/credentials`).

    The client id is the lower-case device id, so a device is recognisable in the broker's log
    and keeps its persistent session across credential rotations.
    """
    return BrokerLogin(
        username=device_login_name(device_id, generation),
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
