"""Clear the retained messages under a topic prefix whose owner is gone (review finding #3).

When a device leaves its owner or an account is deleted, the broker would otherwise keep the
last retained `status`, `pump/state`, `schedule`, `alert/<id>` (and any retained command) and
hand them to the next subscriber of those topics. A short-lived service login (`svc-clear-...`)
with rights on exactly that prefix subscribes, collects what the broker holds retained, publishes
an empty retained message on each of those topics (which deletes them), and is deleted again.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import ssl
import threading
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from pooldesk_contract import topics
from pooldesk_server.accounts.events import (
    AccountDeleted,
    AccountEvent,
    DeviceMoved,
    DeviceUnbound,
)
from pooldesk_server.broker.base import BrokerBackend, BrokerError, BrokerLogin, BrokerUnavailable
from pooldesk_server.broker.logins import new_password
from pooldesk_server.broker.rights import AclRule, Rights, device_prefix, user_prefix

# Topics that may hold a retained message (the retained ones of the contract and any retained
# command), cleared even when the subscribe pass did not see them; `alert/+` is a filter, not a
# topic: alerts are cleared from what the subscribe pass saw.
DEVICE_RETAINED = tuple(n for n in (*topics.RETAINED, *topics.COMMANDS) if not n.endswith("/+"))
QUIET_S = 0.3  # retained messages arrive right after the SUBACK; this long without one: done
TIMEOUT_S = 10.0


def retained_prefix_of(event: AccountEvent) -> str | None:
    """The topic prefix whose retained messages must go after this event, if any."""
    if isinstance(event, DeviceUnbound | DeviceMoved):
        return device_prefix(event.username, event.device_id)
    if isinstance(event, AccountDeleted):
        return user_prefix(event.username)
    return None


def clearing_rights(prefix: str) -> Rights:
    return (
        AclRule("subscribePattern", f"{prefix}/#"),
        AclRule("publishClientReceive", f"{prefix}/#"),
        AclRule("publishClientSend", f"{prefix}/#"),
    )


@contextlib.asynccontextmanager
async def _service_login(
    backend: BrokerBackend, login: BrokerLogin, strays: set[str] | None
) -> AsyncIterator[None]:
    """Put a short-lived service login, yield, delete it. A put or delete that failed may still
    reach a paused broker later: its name goes into `strays`, for the caller to delete later."""
    try:
        await backend.put_login(login)
    except BrokerError:
        if strays is not None:
            strays.add(login.username)
        raise
    try:
        yield
    finally:
        try:
            await backend.delete_login(login.username)
        except BrokerError:
            if strays is not None:
                strays.add(login.username)
            raise


async def remove_stray_logins(backend: BrokerBackend, strays: set[str]) -> None:
    """Delete the service logins named in `strays` (deleting a missing login is no error)."""
    for name in sorted(strays):
        await backend.delete_login(name)
        strays.discard(name)


async def clear_retained(
    backend: BrokerBackend, prefix: str, strays: set[str] | None = None
) -> list[str]:
    """Clear every retained message under `prefix`; returns the topics cleared."""
    name = f"svc-clear-{secrets.token_hex(6)}"
    login = BrokerLogin(name, new_password(), name, clearing_rights(prefix))
    async with _service_login(backend, login, strays):
        url, ca_pem = backend.broker_url, backend.ca_cert_pem
        return await asyncio.to_thread(_clear, url, ca_pem, login, prefix)


async def publish_retained(
    backend: BrokerBackend,
    messages: dict[str, bytes],
    rights: Rights | None = None,
    strays: set[str] | None = None,
) -> None:
    """Publish these retained messages (topic -> payload) with a short-lived service login that
    may publish on exactly those topics (or has `rights`), e.g. a device's `status` `offline`
    when the broker cut the device without sending its will (a deleted login, a restart)."""
    if not messages:
        return
    name = f"svc-status-{secrets.token_hex(6)}"
    if rights is None:
        rights = tuple(AclRule("publishClientSend", topic) for topic in sorted(messages))
    login = BrokerLogin(name, new_password(), name, rights)
    async with _service_login(backend, login, strays):
        url, ca_pem = backend.broker_url, backend.ca_cert_pem
        await asyncio.to_thread(_publish, url, ca_pem, login, messages)


def _connected_client(url: str, ca_pem: str | None, login: BrokerLogin) -> mqtt.Client:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise BrokerUnavailable(f"cannot publish retained messages over {parts.scheme}://")
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=login.client_id,
        protocol=mqtt.MQTTv5,
        reconnect_on_failure=False,
    )
    client.username_pw_set(login.username, login.password)
    if parts.scheme == "mqtts":
        context = ssl.create_default_context(cadata=ca_pem) if ca_pem else None
        client.tls_set_context(context or ssl.create_default_context())
    return client


def _publish(url: str, ca_pem: str | None, login: BrokerLogin, messages: dict[str, bytes]) -> None:
    client = _connected_client(url, ca_pem, login)
    connected = threading.Event()
    client.on_connect = lambda *_a: connected.set()
    parts = urlsplit(url)
    try:
        client.connect(
            parts.hostname or "", parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        )
    except OSError as error:
        raise BrokerUnavailable(f"cannot reach the broker: {error}") from None
    client.loop_start()
    try:
        if not connected.wait(TIMEOUT_S):
            raise BrokerUnavailable("the broker did not accept the service login")
        infos = [client.publish(t, p, qos=1, retain=True) for t, p in sorted(messages.items())]
        deadline = time.monotonic() + TIMEOUT_S
        for info in infos:
            info.wait_for_publish(max(0.0, deadline - time.monotonic()))
    finally:
        client.disconnect()
        client.loop_stop()


def _clear(url: str, ca_pem: str | None, login: BrokerLogin, prefix: str) -> list[str]:
    """Blocking: connect, collect the retained topics, publish empty retained messages."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise BrokerUnavailable(f"cannot clear retained messages over {parts.scheme}://")
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=login.client_id,
        protocol=mqtt.MQTTv5,
        reconnect_on_failure=False,
    )
    client.username_pw_set(login.username, login.password)
    if parts.scheme == "mqtts":
        context = ssl.create_default_context(cadata=ca_pem) if ca_pem else None
        client.tls_set_context(context or ssl.create_default_context())
    subscribed, lock = threading.Event(), threading.Lock()
    retained: set[str] = set()
    last_seen = [time.monotonic()]

    def on_connect(c: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        if not getattr(reason, "is_failure", True):
            c.subscribe(f"{prefix}/#", qos=1)

    def on_subscribe(_c: mqtt.Client, _u: object, _m: int, reasons: list, _p: object) -> None:
        if reasons and not reasons[0].is_failure:
            last_seen[0] = time.monotonic()
            subscribed.set()

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        if msg.retain and msg.payload:
            with lock:
                retained.add(msg.topic)
                last_seen[0] = time.monotonic()

    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    try:
        client.connect(
            parts.hostname or "", parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        )
    except OSError as error:
        raise BrokerUnavailable(f"cannot reach the broker to clear retained: {error}") from None
    client.loop_start()
    try:
        if not subscribed.wait(TIMEOUT_S):
            raise BrokerUnavailable("the broker did not accept the retained-clearing subscription")
        while time.monotonic() - last_seen[0] < QUIET_S:
            time.sleep(0.05)
        with lock:
            topics = set(retained)
        if prefix.count("/") == 3:  # a device prefix: users/<u>/devices/<d>
            topics |= {f"{prefix}/{t}" for t in DEVICE_RETAINED}
        infos = [client.publish(topic, b"", qos=1, retain=True) for topic in sorted(topics)]
        deadline = time.monotonic() + TIMEOUT_S
        for info in infos:
            info.wait_for_publish(max(0.0, deadline - time.monotonic()))
        return sorted(retained)
    finally:
        client.disconnect()
        client.loop_stop()
