"""A small MQTT v5 test client that records what the broker answers and delivers.

Refusals are read from the broker's own reason codes (CONNACK, SUBACK 0x80/0x87, PUBACK 0x87) and
from messages that did not arrive where a legitimate subscriber saw them arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
import threading
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from pooldesk_server.broker.base import BrokerLogin

NOT_AUTHORIZED = 0x87
UNSPECIFIED = 0x80
BAD_CREDENTIALS = 0x86
NO_MATCHING_SUBSCRIBERS = 0x10
REFUSED_SUBSCRIBE = {UNSPECIFIED, NOT_AUTHORIZED}
WAIT_S = 5.0

T = TypeVar("T")


@dataclass
class Received:
    topic: str
    payload: bytes
    retain: bool


@dataclass
class Probe:
    port: int
    username: str
    password: str
    client_id: str
    transport: str = "tcp"
    protocol: int = mqtt.MQTTv5
    messages: list[Received] = field(default_factory=list)
    connack: int | None = None
    disconnected: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._acks: dict[int, tuple[threading.Event, list[int]]] = {}
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=self.protocol,
            transport=self.transport,
            reconnect_on_failure=False,
        )
        self.client.username_pw_set(self.username, self.password)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_ack
        self.client.on_publish = self._on_publish
        self.client.on_socket_open = lambda _c, _u, s: _nodelay(s)

    @classmethod
    def of(cls, port: int, login: BrokerLogin, **kw: Any) -> Probe:
        return cls(port, login.username, login.password, login.client_id, **kw)

    # callbacks (paho thread)
    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connack = reason.value
        self._connected.set()

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.disconnected.set()
        self._connected.set()

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(Received(msg.topic, msg.payload, bool(msg.retain)))

    def _ack_slot(self, mid: int) -> tuple[threading.Event, list[int]]:
        with self._lock:
            return self._acks.setdefault(mid, (threading.Event(), []))

    def _on_ack(self, _c: Any, _u: Any, mid: int, reasons: list, _p: Any) -> None:
        event, codes = self._ack_slot(mid)
        codes.extend(r.value for r in reasons)
        event.set()

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        event, codes = self._ack_slot(mid)
        codes.append(reason.value)
        event.set()

    # actions
    async def connect(
        self,
        *,
        clean_start: bool = True,
        session_expiry: int = 0,
        will: tuple[str, bytes, bool] | None = None,
    ) -> int:
        """Connect; return the CONNACK reason code (0 = accepted)."""
        if will:
            self.client.will_set(will[0], will[1], qos=1, retain=will[2])
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = session_expiry
        self.disconnected.clear()
        self._connected.clear()
        v5 = self.protocol == mqtt.MQTTv5
        try:
            if v5:
                self.client.connect(
                    "127.0.0.1", self.port, keepalive=30, clean_start=clean_start, properties=props
                )
            else:  # MQTT 3.1.1: clean_session was fixed when the client was made
                self.client.connect("127.0.0.1", self.port, keepalive=30)
        except (ConnectionError, OSError):
            return -1
        self.client.loop_start()
        if not await asyncio.to_thread(self._connected.wait, WAIT_S):
            raise TimeoutError(f"{self.username}: no CONNACK")
        return -1 if self.connack is None else self.connack

    async def subscribe(self, *filters: str) -> list[int]:
        """Subscribe (one SUBSCRIBE with all filters); return the SUBACK reason codes."""
        rc, mid = self.client.subscribe([(f, 1) for f in filters])
        assert rc == mqtt.MQTT_ERR_SUCCESS, rc
        return await self._wait_ack(mid)

    async def publish(self, topic: str, payload: str | bytes, retain: bool = False) -> int:
        """Publish at QoS 1; return the PUBACK reason code, 0 for any success.

        Success includes 0x10 "no matching subscribers"; refusals are >= 0x80 (0x87 not authorized).
        """
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS, info.rc
        (code,) = await self._wait_ack(info.mid)
        return 0 if code == NO_MATCHING_SUBSCRIBERS else code

    async def _wait_ack(self, mid: int) -> list[int]:
        event, codes = self._ack_slot(mid)
        if not await asyncio.to_thread(event.wait, WAIT_S):
            raise TimeoutError(f"{self.username}: no ack for message {mid}")
        return codes

    def drop(self) -> None:
        """Cut the TCP connection without DISCONNECT, so the broker sends the will."""
        sock = self.client.socket()
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    # observations
    def got(self, topic: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    async def wait_for(self, topic: str, count: int = 1, within: float = WAIT_S) -> list[Received]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            found = self.got(topic)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.01)
        raise AssertionError(f"{self.username} did not receive {count} message(s) on {topic}")

    async def wait_disconnected(self, within: float = WAIT_S) -> bool:
        return await asyncio.to_thread(self.disconnected.wait, within)

    async def cut_by(self, action: Awaitable[T]) -> tuple[T, bool]:
        """Await `action` while nothing reads this connection; then tell whether the broker had
        already cut it: its DISCONNECT or the closed connection waits in the socket, where the
        kernel put it however late this process's threads run. Reading resumes afterwards (then
        `wait_disconnected` tells that it was a cut, not a message)."""
        await asyncio.to_thread(self.client.loop_stop)
        try:
            result = await action
            sock = self.client.socket()
            pending = sock is None or bool(select.select([sock], [], [], 0)[0])
        finally:
            self.client.loop_start()
        return result, pending or self.disconnected.is_set()


def _nodelay(sock: Any) -> None:
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
