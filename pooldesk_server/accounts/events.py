"""Account life-cycle events that other layers (the MQTT broker layer) subscribe to.

The account and device services publish these AFTER their transaction has committed. By then
the MQTT logins tied to what ended are marked `broker_state='pending_delete'` in `mqtt_logins`
(same transaction), and the event carries their `mqtt_user` names, so a subscriber only has to
remove them from the broker and then delete the rows. A subscriber that fails is logged and the
request still succeeds; rows left `pending_delete` are for the broker layer's sync to finish.

With no subscriber, publishing does nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger("pooldesk_server.accounts.events")

# "expired": housekeeping purged the sessions (expired, or revoked a week before).
SessionEndReason = Literal[
    "logout",
    "session_deleted",
    "password_changed",
    "refresh_reuse",
    "account_deleted",
    "expired",
    "operator_revoked",  # `pooldesk-backend sessions revoke USER`
]


@dataclass(frozen=True)
class SessionsEnded:
    """Sessions were revoked; their access and refresh tokens no longer work."""

    user_id: str
    username: str
    session_ids: tuple[str, ...]
    reason: SessionEndReason
    mqtt_users: tuple[str, ...]


@dataclass(frozen=True)
class PasswordChanged:
    """The password changed; every session except `kept_session_id` was ended (and a
    SessionsEnded event for them is published as well)."""

    user_id: str
    username: str
    kept_session_id: str


@dataclass(frozen=True)
class DeviceUnbound:
    """A device left its owner (DELETE /api/devices/{id}); its history and API key are gone.
    Its old topic prefix is `pooldesk_server.devices.ids.topic_prefix(username, device_id)`."""

    user_id: str
    username: str
    device_id: str
    mqtt_users: tuple[str, ...]


@dataclass(frozen=True)
class DeviceMoved:
    """A device was handed over to another account (pooldesk_server/transfers/): `username` is
    the OLD owner, whose prefix (`topic_prefix(username, device_id)`) loses its retained
    messages; `mqtt_users` are the device's old logins (already `pending_delete`)."""

    user_id: str
    username: str
    device_id: str
    mqtt_users: tuple[str, ...]


@dataclass(frozen=True)
class AccountDeleted:
    """The account and everything of it is gone (sessions, devices, history, audit). The
    username is retired (never registered again); each device's old topic prefix is
    `pooldesk_server.devices.ids.topic_prefix(username, device_id)`."""

    user_id: str
    username: str
    device_ids: tuple[str, ...]
    mqtt_users: tuple[str, ...]


@dataclass(frozen=True)
class AccountDisabled:
    """The operator disabled the account (`pooldesk-backend users disable`): its sessions were
    revoked and every MQTT login of it (dashboards' and devices') is `pending_delete`. Published
    by the server that carried out the operator's request (pooldesk_server/ops/requests.py)."""

    user_id: str
    username: str
    session_ids: tuple[str, ...]
    mqtt_users: tuple[str, ...]


@dataclass(frozen=True)
class RightsChanged:
    """Shares changed (docs/sharing.md): the dashboard logins of these accounts must get
    their rights recomputed; live connections that lost a right are cut. Published after the
    commit; the broker layer does it before the request answers (when the broker answers)."""

    usernames: tuple[str, ...]


AccountEvent = (
    SessionsEnded
    | PasswordChanged
    | DeviceUnbound
    | DeviceMoved
    | AccountDeleted
    | AccountDisabled
    | RightsChanged
)
Subscriber = Callable[[AccountEvent], Awaitable[None]]


class AccountEvents:
    """An async callback list. `subscribe(cb)`; `await publish(event)` calls each in order."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.remove(subscriber)

    async def publish(self, event: AccountEvent) -> None:
        for subscriber in list(self._subscribers):
            try:
                await subscriber(event)
            except Exception:
                log.exception("account event subscriber failed on %s", type(event).__name__)
