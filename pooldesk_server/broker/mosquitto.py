"""`ExternalMosquitto`: an existing Mosquitto (2.0+) with the dynamic-security plugin.

The backend logs in with the plugin's admin credentials from the environment:

    MQTT_BROKER_URL            what clients are told to connect to (required), e.g. mqtts://mqtt.example:8883
    MOSQUITTO_ADMIN_USER       dynamic-security admin login (required)
    MOSQUITTO_ADMIN_PASSWORD   its password (required)
    MOSQUITTO_ADMIN_HOST       where the backend reaches the broker (default 127.0.0.1)
    MOSQUITTO_ADMIN_PORT       (default 1883)
    MOSQUITTO_ADMIN_CA_FILE    CA file to verify the broker with TLS on the admin connection
    MQTT_CA_FILE               CA certificate handed to devices with their credentials (optional)

On start it sets the broker's default ACL access to deny (publishClientReceive included), which
tenant isolation depends on.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from pooldesk_server.broker.base import BrokerError, BrokerHealth, BrokerLogin
from pooldesk_server.broker.dynsec import DynsecClient, DynsecLogins
from pooldesk_server.broker.rights import Rights

log = logging.getLogger(__name__)


def _loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class BrokerConfigError(BrokerError):
    """The environment does not describe a usable broker."""


class ExternalMosquitto:
    name = "mosquitto"

    def __init__(
        self,
        *,
        broker_url: str,
        admin_username: str,
        admin_password: str,
        admin_host: str = "127.0.0.1",
        admin_port: int = 1883,
        admin_ca_file: str | None = None,
        client_ca_pem: str | None = None,
        command_timeout: float = 10.0,
    ) -> None:
        self._broker_url = broker_url
        self._ca_pem = client_ca_pem
        self.client = DynsecClient(
            admin_host,
            admin_port,
            admin_username,
            admin_password,
            timeout=command_timeout,
            tls_ca_file=admin_ca_file,
        )
        self._logins = DynsecLogins(self.client, admin_username)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ExternalMosquitto:
        env = os.environ if env is None else env
        missing = [
            k
            for k in ("MQTT_BROKER_URL", "MOSQUITTO_ADMIN_USER", "MOSQUITTO_ADMIN_PASSWORD")
            if not env.get(k)
        ]
        if missing:
            raise BrokerConfigError(
                "the 'mosquitto' broker back end needs these environment variables: "
                + ", ".join(missing)
            )
        try:
            port = int(env.get("MOSQUITTO_ADMIN_PORT", "1883"))
        except ValueError:
            raise BrokerConfigError("MOSQUITTO_ADMIN_PORT must be a port number") from None
        admin_host = env.get("MOSQUITTO_ADMIN_HOST", "127.0.0.1")
        if not _loopback(admin_host) and not env.get("MOSQUITTO_ADMIN_CA_FILE"):
            # Every credential the backend issues crosses this link as a plain password.
            if env.get("MOSQUITTO_ADMIN_ALLOW_PLAINTEXT") != "1":
                raise BrokerConfigError(
                    f"MOSQUITTO_ADMIN_HOST={admin_host} is not this machine and "
                    "MOSQUITTO_ADMIN_CA_FILE is not set: the admin link would carry every new "
                    "MQTT password in clear text. Give the broker's admin listener TLS and set "
                    "MOSQUITTO_ADMIN_CA_FILE (or MOSQUITTO_ADMIN_ALLOW_PLAINTEXT=1 on a network "
                    "you trust)"
                )
            log.warning(
                "the admin link to %s is not encrypted: new MQTT passwords cross the network "
                "in clear text (MOSQUITTO_ADMIN_ALLOW_PLAINTEXT=1)",
                admin_host,
            )
        ca_pem = None
        if env.get("MQTT_CA_FILE"):
            try:
                ca_pem = Path(env["MQTT_CA_FILE"]).read_text()
            except OSError as error:
                raise BrokerConfigError(f"MQTT_CA_FILE cannot be read: {error}") from None
        return cls(
            broker_url=env["MQTT_BROKER_URL"],
            admin_username=env["MOSQUITTO_ADMIN_USER"],
            admin_password=env["MOSQUITTO_ADMIN_PASSWORD"],
            admin_host=admin_host,
            admin_port=port,
            admin_ca_file=env.get("MOSQUITTO_ADMIN_CA_FILE") or None,
            client_ca_pem=ca_pem,
        )

    @property
    def broker_url(self) -> str:
        return self._broker_url

    @property
    def ca_cert_pem(self) -> str | None:
        return self._ca_pem

    async def start(self) -> None:
        await self.client.connect()
        await self._logins.set_default_acl_access()

    async def stop(self) -> None:
        await self.client.close()

    async def put_login(self, login: BrokerLogin) -> None:
        await self._logins.put_logins([login])

    async def put_logins(self, logins: Sequence[BrokerLogin]) -> None:
        await self._logins.put_logins(logins)

    async def delete_login(self, username: str) -> None:
        await self._logins.delete_login(username)

    async def change_rights(self, username: str, rights: Rights) -> bool:
        return await self._logins.change_rights(username, rights)

    async def list_logins(self) -> set[str]:
        return await self._logins.list_logins()

    async def logins_used(self, usernames: Sequence[str]) -> dict[str, int] | None:  # noqa: ARG002
        return None  # dynamic security does not say which login a connection used

    async def health(self) -> BrokerHealth:
        return await self._logins.health()
