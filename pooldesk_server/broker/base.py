"""The one interface every broker back end implements, and the values it passes around."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from pooldesk_server.broker.rights import Rights


class BrokerError(Exception):
    """Base of every broker error. `str()` is a message a person can act on; never a secret."""


class BrokerUnavailable(BrokerError):
    """The broker could not be reached or did not answer in time.

    Nothing is known to have changed: record the change as pending and retry it later.
    """


class BrokerRejected(BrokerError):
    """The broker answered and refused the change (bad name, bad rights...). Retrying won't help."""


class BrokerNotInstalled(BrokerError):
    """The broker program is missing on this machine."""


@dataclass(frozen=True)
class BrokerLogin:
    """One MQTT login: who connects, with which password and client id, with which rights."""

    username: str
    password: str = field(repr=False)
    client_id: str
    rights: Rights


@dataclass(frozen=True)
class BrokerHealth:
    ok: bool
    detail: str


@runtime_checkable
class BrokerBackend(Protocol):
    """What the backend needs from a broker, whichever broker it is.

    All methods are idempotent, so a pending change can simply be retried. On a broker that cannot
    be reached they raise `BrokerUnavailable`; on a refused change `BrokerRejected`.
    """

    name: str

    @property
    def broker_url(self) -> str:
        """Where MQTT clients connect (e.g. `mqtt://127.0.0.1:18830`)."""
        ...

    @property
    def ca_cert_pem(self) -> str | None:
        """PEM of the CA clients must trust, when `broker_url` is a TLS URL; else None."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def put_login(self, login: BrokerLogin) -> None:
        """Create the login, or update the password, client id and rights of an existing one."""
        ...

    async def put_logins(self, logins: Sequence[BrokerLogin]) -> None:
        """`put_login` for many logins, batched where the broker allows."""
        ...

    async def delete_login(self, username: str) -> None:
        """Delete the login and cut its live connection. A missing login is not an error."""
        ...

    async def change_rights(self, username: str, rights: Rights) -> bool:
        """Give an existing login these rights, keeping its password (a share changed). Its
        live connections are cut when it loses a right (`rights.loses_a_right`) and kept when
        it only gains. False, with nothing changed, when the broker has no such login."""
        ...

    async def list_logins(self) -> set[str]:
        """Usernames of the logins this back end manages (never the broker's admin)."""
        ...

    async def logins_used(self, usernames: Sequence[str]) -> dict[str, int] | None:
        """For each of these logins a client has logged in with since it was put, a number
        that orders log-ins (the latest log-in has the highest); None when this back end cannot
        tell. A device's replaced login is retired only once the device's latest log-in was
        with the new one (docs/mqtt.md, "Rotation")."""
        ...

    async def health(self) -> BrokerHealth: ...
