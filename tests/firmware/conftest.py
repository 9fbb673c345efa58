"""Fixtures for the firmware tests: a real broker and a paho client playing the dashboard.
(Tests load firmware modules through `pooldesk_firmware.sim.loader.FirmwareImage`.)"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from tests.support.plain_mosquitto import plain_mosquitto

PREFIX = "users/john/devices/esp-a1b2c3"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[int]:
    with plain_mosquitto(tmp_path) as port:
        yield port


def make_binding(port: int, prefix: str = PREFIX, **extra: object) -> dict:
    b = {
        "ssid": "PoolNet",
        "password": "poolpass123",
        "broker_url": f"mqtt://127.0.0.1:{port}",
        "mqtt_user": "",
        "mqtt_password": "",
        "client_id": "dev-" + prefix.rsplit("/", 1)[1],
        "topic_prefix": prefix,
        "username": "john",
        "ca_cert": None,
    }
    b.update(extra)
    return b


class Dashboard:
    """A paho client on the other side: records every message, publishes commands."""

    def __init__(self, port: int, subscribe: str = "users/#", **connect: object) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="dashboard")
        if connect.get("username"):
            self.client.username_pw_set(str(connect["username"]), str(connect["password"]))
        self.client.on_message = lambda c, u, m: self.messages.append(
            (m.topic, m.payload, bool(m.retain))
        )
        self.client.on_socket_open = lambda c, u, s: s.setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
        )
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.client.subscribe(subscribe, 1)
        deadline = time.monotonic() + 5
        while not self.client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.01)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def command(self, sub: str, body: dict | bytes, prefix: str = PREFIX) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.client.publish(f"{prefix}/{sub}", payload, qos=1).wait_for_publish(5)

    def payloads(self, sub: str, prefix: str = PREFIX) -> list[bytes]:
        return [p for t, p, _ in list(self.messages) if t == f"{prefix}/{sub}"]

    def states(self, prefix: str = PREFIX) -> list[dict]:
        return [json.loads(p) for p in self.payloads("pump/state", prefix)]

    async def wait_for(
        self,
        sub: str,
        pred: Callable[[bytes], bool] = lambda p: True,
        within: float = 10.0,
        prefix: str = PREFIX,
    ) -> bytes:
        deadline = time.monotonic() + within
        while True:
            for p in self.payloads(sub, prefix):
                if pred(p):
                    return p
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"no matching message on {prefix}/{sub}: {self.payloads(sub, prefix)!r}"
                )
            await asyncio.sleep(0.02)

    async def wait_state(
        self, pred: Callable[[dict], bool], within: float = 10.0, prefix: str = PREFIX
    ) -> dict:
        raw = await self.wait_for("pump/state", lambda p: pred(json.loads(p)), within, prefix)
        return json.loads(raw)


@pytest.fixture
def dashboard(broker: int) -> Iterator[Dashboard]:
    d = Dashboard(broker)
    yield d
    d.close()
