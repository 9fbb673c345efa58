"""PoolDesk's own Mosquitto login plugin (`plugin/pooldesk_logins.c`): building it, talking to it.

Why it exists: Mosquitto 2.0's dynamic-security plugin rewrites its whole JSON store after every
command, in the broker's only thread; with 10,000 logins one change stalls every client for
~0.2 s (bench/mqtt.py). The plugin keeps logins in a hash table and appends each change to a
journal, so a change costs well under a millisecond at the broker. The managed broker loads it in
front of dynamic security, which keeps only the admin login (and logins of older versions).

The plugin is compiled from source on first use (gcc, Mosquitto's and OpenSSL's headers:
`apt-get install gcc mosquitto-dev libmosquitto-dev libssl-dev`) into the data folder, named by
the hash of its source so an updated source is rebuilt; no binary is committed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import subprocess
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from pooldesk_server.broker.base import (
    BrokerHealth,
    BrokerLogin,
    BrokerNotInstalled,
    BrokerRejected,
    BrokerUnavailable,
)
from pooldesk_server.broker.dynsec import RECONNECT_GRACE_S, DynsecClient
from pooldesk_server.broker.rights import InvalidTopicName, Rights, check_rights
from pooldesk_server.broker.store import HashedLogin, _entry_from_hash, dynsec_password_hash

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("plugin") / "pooldesk_logins.c"
CONTROL_TOPIC = "$CONTROL/pooldesk-logins/v1"
RESPONSE_TOPIC = CONTROL_TOPIC + "/response"
HEADERS = "/usr/include/mosquitto_broker.h"
BUILD_HINT = "install `gcc mosquitto-dev libmosquitto-dev libssl-dev` (Debian/Ubuntu)"
LINES_PER_MESSAGE = 500
RULE_LETTER = {"publishClientSend": "p", "subscribePattern": "s", "publishClientReceive": "r"}


def build_plugin(out_dir: Path) -> Path:
    """Compile the plugin into `out_dir` unless this source was built there already."""
    try:
        source = SOURCE.read_bytes()
    except OSError:
        raise BrokerNotInstalled(
            f"cannot build PoolDesk's broker plugin: its source {SOURCE} is missing from this "
            "installation"
        ) from None
    target = out_dir / f"pooldesk_logins-{hashlib.sha256(source).hexdigest()[:12]}.so"
    if target.exists():
        return target
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None or not os.path.exists(HEADERS):
        raise BrokerNotInstalled(f"cannot build PoolDesk's broker plugin: {BUILD_HINT}")
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    done = subprocess.run(
        [compiler, "-shared", "-fPIC", "-O2", "-o", str(tmp), str(SOURCE), "-lcrypto"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise BrokerNotInstalled(
            f"cannot build PoolDesk's broker plugin ({BUILD_HINT}): {done.stderr.strip()[-600:]}"
        )
    os.chmod(tmp, 0o755)  # noqa: S103 - a library the broker (user `mosquitto`) must load
    os.replace(tmp, target)
    return target


class PluginClient(DynsecClient):
    """The admin connection to the plugin's control topic (line protocol, see the C source)."""

    control_topic = CONTROL_TOPIC
    response_topic = RESPONSE_TOPIC
    client_id_prefix = "pooldesk-logins"

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        lines = message.payload.decode(errors="replace").split("\n")
        if not lines or not lines[0].startswith("id\t"):
            log.warning("ignoring a malformed answer of the login plugin")
            return
        with self._lock:
            entry = self._pending.pop(lines[0][3:], None)
        if entry is not None:
            self._call(_resolve, entry[0], [line for line in lines[1:] if line])

    async def run(self, commands: Sequence[str], within: float | None = None) -> list[str]:
        """Send command lines (in messages of `LINES_PER_MESSAGE`); return one answer each."""
        timeout = self.timeout if within is None else within
        if not commands:
            return []
        if not self.connected:
            await self.wait_ready(min(timeout, RECONNECT_GRACE_S))
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Any]] = []
        tokens: list[str] = []
        try:
            for start in range(0, len(commands), LINES_PER_MESSAGE):
                token = uuid.uuid4().hex
                future: asyncio.Future[Any] = loop.create_future()
                with self._lock:
                    self._pending[token] = (future, "plugin")
                futures.append(future)
                tokens.append(token)
                body = "\n".join([f"id\t{token}", *commands[start : start + LINES_PER_MESSAGE]])
                info = self._mqtt.publish(self.control_topic, body, qos=1)
                if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                    raise BrokerUnavailable(
                        f"could not send to the broker: {mqtt.error_string(info.rc)}"
                    )
            answers = await asyncio.wait_for(asyncio.gather(*futures), timeout)
        except TimeoutError:
            raise BrokerUnavailable(
                f"the broker's login plugin did not answer within {timeout:.0f} s"
            ) from None
        finally:
            with self._lock:
                for token in tokens:
                    self._pending.pop(token, None)
        return [line for answer in answers for line in answer]


def _resolve(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _field(value: str, what: str) -> str:
    if not value or any(c in value for c in "\t\n\r\0"):
        raise BrokerRejected(f"{what} {value!r} is empty or holds a tab or line break")
    return value


def _rules(username: str, rights: Rights) -> list[str]:
    try:
        check_rights(rights)
    except InvalidTopicName as error:
        raise BrokerRejected(f"rights of {username!r}: {error}") from None
    out = []
    for rule in rights:
        letter = RULE_LETTER[rule.acltype]  # upper case: a deny rule, decided before any allow
        out.append((letter if rule.allow else letter.upper()) + _field(rule.topic, "topic"))
    return out


def put_line(login: BrokerLogin | HashedLogin, admin_username: str) -> str:
    """The plugin's `put` line for a login; refuses anything malformed before it is sent."""
    if login.username == admin_username:
        raise BrokerRejected(f"{login.username!r} is the broker's admin login")
    if isinstance(login, HashedLogin):
        try:
            _entry_from_hash(login.password_hash)
        except ValueError as error:
            raise BrokerRejected(f"login {login.username!r}: {error}") from None
        hashed = login.password_hash
    else:
        if not login.password:
            raise BrokerRejected("a login needs a username, a client id and a password")
        hashed = dynsec_password_hash(login.password)
    fields = [
        "put",
        _field(login.username, "username"),
        _field(login.client_id, "client id"),
        _field(hashed, "password hash"),
        *_rules(login.username, login.rights),
    ]
    return "\t".join(fields)


def _check(answers: Sequence[str]) -> None:
    for answer in answers:
        if answer.startswith("error\t"):
            raise BrokerRejected(f"the broker's login plugin refused a change: {answer[6:]}")


class PluginLogins:
    """Login operations of `BrokerBackend` through the plugin."""

    def __init__(self, client: PluginClient, admin_username: str) -> None:
        self.client = client
        self.admin_username = admin_username

    async def put_logins(self, logins: Sequence[BrokerLogin | HashedLogin]) -> None:
        lines = [put_line(login, self.admin_username) for login in logins]  # all checked first
        _check(await self.client.run(lines))

    async def delete_logins(self, usernames: Sequence[str]) -> None:
        for name in usernames:
            if name == self.admin_username:
                raise BrokerRejected(f"{name!r} is the broker's admin login and cannot be deleted")
        _check(await self.client.run([f"del\t{_field(n, 'username')}" for n in usernames]))

    async def list_logins(self) -> set[str]:
        (answer,) = await self.client.run(["list"])
        _check([answer])
        return set(answer.split("\t")[1:])

    async def used_logins(self, usernames: Sequence[str]) -> dict[str, int]:
        """For those of these logins a client logged in with since they were put, the number
        of its latest log-in (`used`: the latest of all has the highest)."""
        if not usernames:
            return {}
        (answer,) = await self.client.run(
            ["\t".join(["used", *(_field(n, "username") for n in usernames)])]
        )
        _check([answer])
        used = {}
        for item in answer.split("\t")[1:]:
            name, _, seen = item.rpartition("=")
            used[name] = int(seen)
        return used

    async def health(self) -> BrokerHealth:
        if not self.client.connected:
            return BrokerHealth(False, "not connected to the broker's login plugin")
        try:
            await self.client.run(["ping"], within=3)
        except BrokerUnavailable as error:
            return BrokerHealth(False, str(error))
        return BrokerHealth(True, "ok")
