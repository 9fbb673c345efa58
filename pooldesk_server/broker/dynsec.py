"""An asyncio client for Mosquitto's dynamic-security plugin, and the login operations built on it.

Commands go as JSON to `$CONTROL/dynamic-security/v1`; answers come back on `.../response`, matched
by the `correlationData` each command carries. Several commands travel in one message (the plugin
rewrites its JSON store once per command, so batching mostly saves round trips). paho-mqtt runs on
the asyncio loop (`paho_loop`), so its callbacks resolve the waiting commands directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from pooldesk_server.broker.base import (
    BrokerHealth,
    BrokerLogin,
    BrokerRejected,
    BrokerUnavailable,
)
from pooldesk_server.broker.paho_loop import PahoOnLoop
from pooldesk_server.broker.rights import (
    AclRule,
    InvalidTopicName,
    Rights,
    check_rights,
    loses_a_right,
)

log = logging.getLogger(__name__)

CONTROL_TOPIC = "$CONTROL/dynamic-security/v1"
RESPONSE_TOPIC = CONTROL_TOPIC + "/response"
BATCH_SIZE = 200  # commands per MQTT message
RECONNECT_S = (0.05, 2.0)  # first and longest wait between connection attempts
RECONNECT_GRACE_S = 2.0  # how long a command waits for a lost admin connection to come back

# Deny by default; `publishClientReceive` must be denied too, or a client reusing another's client
# id with a persistent session could be handed messages queued for that session.
DEFAULT_ACL_ACCESS = (
    {"acltype": "publishClientSend", "allow": False},
    {"acltype": "publishClientReceive", "allow": False},
    {"acltype": "subscribe", "allow": False},
    {"acltype": "unsubscribe", "allow": True},
)

CLIENT_EXISTS = "Client already exists"
ROLE_EXISTS = "Role already exists"
CLIENT_MISSING = "Client not found"
ROLE_MISSING = "Role not found"


@dataclass(frozen=True)
class DynsecResult:
    command: str
    error: str | None
    data: dict[str, Any] | None


class DynsecClient:
    """One admin connection to a Mosquitto with the dynamic-security plugin.

    Reconnects on its own after the broker restarts; commands issued while it is disconnected wait
    up to their timeout for the connection to come back, then raise `BrokerUnavailable`.
    """

    control_topic = CONTROL_TOPIC
    response_topic = RESPONSE_TOPIC
    client_id_prefix = "pooldesk-admin"

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        password: str,
        *,
        timeout: float = 10.0,
        tls_ca_file: str | None = None,
    ) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._mqtt = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"{self.client_id_prefix}-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTv5,
        )
        self._mqtt.username_pw_set(username, password)
        if tls_ca_file:
            self._mqtt.tls_set(ca_certs=tls_ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self._mqtt.max_inflight_messages_set(1000)
        self._mqtt.on_connect = self._on_connect
        self._mqtt.on_subscribe = self._on_subscribe
        self._mqtt.on_disconnect = self._on_disconnect
        self._mqtt.on_message = self._on_message
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = asyncio.Event()
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[asyncio.Future[DynsecResult], str]] = {}
        self._refusal: str | None = None
        self._started = False
        self._driver: PahoOnLoop | None = None

    # ---- paho callbacks (on the loop, from paho_loop) ---------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            self._refusal = str(reason)
            return
        self._refusal = None
        client.subscribe(self.response_topic, qos=1)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list, _p: Any) -> None:
        if reasons and not reasons[0].is_failure:
            self._call(self._ready.set)
        else:
            self._refusal = f"the admin login may not subscribe to {self.response_topic}"

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _reason: Any, _p: Any) -> None:
        self._call(self._ready.clear)
        with self._lock:
            pending, self._pending = self._pending, {}
        for future, _cmd in pending.values():
            self._call(_fail, future, BrokerUnavailable("the connection to the broker was lost"))

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        try:
            responses = json.loads(message.payload)["responses"]
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring a malformed dynamic-security response")
            return
        for response in responses:
            with self._lock:
                entry = self._pending.pop(str(response.get("correlationData")), None)
            if entry is None:
                continue
            result = DynsecResult(
                command=str(response.get("command", entry[1])),
                error=response.get("error"),
                data=response.get("data"),
            )
            self._call(_resolve, entry[0], result)

    def _call(self, fn: Any, *args: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn, *args)

    # ---- asyncio side -------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._ready.is_set()

    async def connect(self, within: float | None = None) -> None:
        """Connect and wait until commands can be sent; keeps retrying for `within` seconds."""
        self._loop = asyncio.get_running_loop()
        if not self._started:
            self._started = True
            self._driver = PahoOnLoop(self._mqtt, reconnect=RECONNECT_S)
            self._driver.start(self.host, self.port, keepalive=30)
        await self.wait_ready(within if within is not None else self.timeout)

    async def wait_ready(self, within: float) -> None:
        """Wait until commands can be sent; a refused admin login fails at once."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not self._ready.is_set():
            if self._refusal:
                raise BrokerRejected(
                    f"the broker at {self.host}:{self.port} refused the admin login: "
                    f"{self._refusal}"
                )
            if loop.time() >= deadline:
                raise BrokerUnavailable(
                    f"no MQTT broker answered at {self.host}:{self.port} within {within:.0f} s"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), min(0.05, deadline - loop.time()))

    async def close(self) -> None:
        if self._started:
            self._started = False
            if self._driver is not None:
                await self._driver.close()
        self._ready.clear()

    async def execute(
        self, commands: Sequence[dict[str, Any]], within: float | None = None
    ) -> list[DynsecResult]:
        """Send commands (batched) and return their results in order. Errors stay in the results."""
        timeout = self.timeout if within is None else within
        if not commands:
            return []
        if not self.connected:  # give a restarting broker a moment, then fail fast
            await self.wait_ready(min(timeout, RECONNECT_GRACE_S))
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[DynsecResult]] = []
        correlations: list[str] = []
        try:
            for start in range(0, len(commands), BATCH_SIZE):
                batch = []
                for command in commands[start : start + BATCH_SIZE]:
                    correlation = uuid.uuid4().hex
                    future: asyncio.Future[DynsecResult] = loop.create_future()
                    with self._lock:
                        self._pending[correlation] = (future, command["command"])
                    futures.append(future)
                    correlations.append(correlation)
                    batch.append({**command, "correlationData": correlation})
                info = self._mqtt.publish(CONTROL_TOPIC, json.dumps({"commands": batch}), qos=1)
                if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                    reason = mqtt.error_string(info.rc)
                    raise BrokerUnavailable(f"could not send to the broker: {reason}")
            return list(await asyncio.wait_for(asyncio.gather(*futures), timeout))
        except TimeoutError:
            raise BrokerUnavailable(
                f"the broker did not answer dynamic-security commands within {timeout:.0f} s "
                "(is the dynamic-security plugin loaded?)"
            ) from None
        finally:
            with self._lock:
                for correlation in correlations:
                    self._pending.pop(correlation, None)


def _resolve(future: asyncio.Future[DynsecResult], result: DynsecResult) -> None:
    if not future.done():
        future.set_result(result)


def _fail(future: asyncio.Future[DynsecResult], error: Exception) -> None:
    if not future.done():
        future.set_exception(error)


def _acl_json(rule: AclRule) -> dict[str, Any]:
    return {
        "acltype": rule.acltype,
        "topic": rule.topic,
        "allow": rule.allow,
        "priority": rule.priority,
    }


def _check(results: Iterable[DynsecResult], tolerated: Iterable[str] = ()) -> None:
    allowed = set(tolerated)
    for result in results:
        if result.error and result.error not in allowed:
            raise BrokerRejected(f"the broker refused {result.command}: {result.error}")


class DynsecLogins:
    """Login operations of `BrokerBackend` on a Mosquitto with the dynamic-security plugin.

    Each login gets a role of the same name holding its rights (2.0.11 has no `%u` substitution).
    """

    def __init__(self, client: DynsecClient, admin_username: str) -> None:
        self.client = client
        self.admin_username = admin_username

    async def set_default_acl_access(self) -> None:
        results = await self.client.execute(
            [{"command": "setDefaultACLAccess", "acls": list(DEFAULT_ACL_ACCESS)}]
        )
        _check(results)

    async def put_logins(self, logins: Sequence[BrokerLogin]) -> None:
        for login in logins:
            if login.username == self.admin_username:
                raise BrokerRejected(f"{login.username!r} is the broker's admin login")
            if not login.username or not login.client_id or not login.password:
                raise BrokerRejected("a login needs a username, a client id and a password")
            try:
                check_rights(login.rights)
            except InvalidTopicName as error:
                raise BrokerRejected(f"rights of {login.username!r}: {error}") from None
        commands: list[dict[str, Any]] = []
        for login in logins:
            commands.append(
                {
                    "command": "createRole",
                    "rolename": login.username,
                    "acls": [_acl_json(rule) for rule in login.rights],
                }
            )
            commands.append(_client_fields("createClient", login))
        results = await self.client.execute(commands)
        existing_roles, existing_clients = [], []
        for login, role_result, client_result in zip(
            logins, results[0::2], results[1::2], strict=True
        ):
            _check([role_result], tolerated=[ROLE_EXISTS])
            _check([client_result], tolerated=[CLIENT_EXISTS])
            if role_result.error == ROLE_EXISTS:
                existing_roles.append(login)
            if client_result.error == CLIENT_EXISTS:
                existing_clients.append(login)
        for login in existing_roles:
            await self._reconcile_role(login)
        if existing_clients:
            _check(
                await self.client.execute(
                    [_client_fields("modifyClient", login) for login in existing_clients]
                )
            )

    async def _reconcile_role(self, login: BrokerLogin) -> None:
        """Make an existing role's ACLs exactly the login's rights."""
        await self._set_role_acls(login.username, login.rights)

    async def _set_role_acls(self, rolename: str, rights: Rights) -> Rights | None:
        """Make an existing role's ACLs exactly `rights`; returns the ACLs it had (None: no
        such role, nothing changed)."""
        (result,) = await self.client.execute([{"command": "getRole", "rolename": rolename}])
        if result.error == ROLE_MISSING:
            return None
        _check([result])
        had = tuple(
            AclRule(acl["acltype"], acl["topic"], acl.get("allow", False), acl.get("priority", 0))
            for acl in ((result.data or {}).get("role") or {}).get("acls", [])
        )
        current = {(r.acltype, r.topic): (r.allow, r.priority) for r in had}
        wanted = {(r.acltype, r.topic): (r.allow, r.priority) for r in rights}
        commands: list[dict[str, Any]] = []
        for key, value in current.items():
            if wanted.get(key) != value:
                commands.append(
                    {
                        "command": "removeRoleACL",
                        "rolename": rolename,
                        "acltype": key[0],
                        "topic": key[1],
                    }
                )
        for rule in rights:
            if current.get((rule.acltype, rule.topic)) != (rule.allow, rule.priority):
                commands.append({"command": "addRoleACL", "rolename": rolename, **_acl_json(rule)})
        _check(await self.client.execute(commands))
        return had

    async def change_rights(self, username: str, rights: Rights) -> bool:
        """Change the login's role in place: Mosquitto applies role ACLs to live connections
        without cutting them (2.0.11, measured), so a login that lost a right is then cut by
        re-stating its role (`modifyClient` disconnects the client's connections)."""
        if username == self.admin_username:
            raise BrokerRejected(f"{username!r} is the broker's admin login")
        try:
            check_rights(rights)
        except InvalidTopicName as error:
            raise BrokerRejected(f"rights of {username!r}: {error}") from None
        had = await self._set_role_acls(username, rights)
        if had is None:
            return False
        if loses_a_right(had, rights):
            (result,) = await self.client.execute(
                [
                    {
                        "command": "modifyClient",
                        "username": username,
                        "roles": [{"rolename": username}],
                    }
                ]
            )
            if result.error == CLIENT_MISSING:
                return False
            _check([result])
        return True

    async def delete_login(self, username: str) -> None:
        if username == self.admin_username:
            raise BrokerRejected(f"{username!r} is the broker's admin login and cannot be deleted")
        results = await self.client.execute(
            [
                {"command": "deleteClient", "username": username},
                {"command": "deleteRole", "rolename": username},
            ]
        )
        _check(results, tolerated=[CLIENT_MISSING, ROLE_MISSING])

    async def list_logins(self) -> set[str]:
        (result,) = await self.client.execute(
            [{"command": "listClients", "verbose": False, "count": -1}]
        )
        _check([result])
        names = (result.data or {}).get("clients", [])
        return {str(n) for n in names if n != self.admin_username}

    async def health(self) -> BrokerHealth:
        if not self.client.connected:
            return BrokerHealth(False, "not connected to the broker")
        try:
            (result,) = await self.client.execute([{"command": "getDefaultACLAccess"}], within=3)
        except BrokerUnavailable as error:
            return BrokerHealth(False, str(error))
        if result.error:
            return BrokerHealth(False, f"getDefaultACLAccess failed: {result.error}")
        return BrokerHealth(True, "ok")


def _client_fields(command: str, login: BrokerLogin) -> dict[str, Any]:
    return {
        "command": command,
        "username": login.username,
        "password": login.password,
        "clientid": login.client_id,
        "roles": [{"rolename": login.username}],
    }
