"""PoolDesk on a two-node RabbitMQ 3.10 cluster (MQTT plugin) behind the backend's http-auth.

One cluster for the whole story (it takes ~30 s to form on the test machine): the pump story
across nodes, the isolation rows that hold there, and what does not (retained messages are
node-local in 3.10). What holds and what does not is written in docs/mqtt.md ("RabbitMQ").
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import uvicorn
from starlette.applications import Starlette

from pooldesk_server.broker.base import BrokerLogin
from pooldesk_server.broker.http_auth import HttpAuthBroker, LoginFile, http_auth_routes
from pooldesk_server.broker.logins import dashboard_login, device_login
from tests.broker.probe import Probe
from tests.support.ports import free_port, wait_for_port
from tests.support.rabbitmq import RabbitCluster, rabbit_cluster

pytestmark = pytest.mark.slow

SECRET = "r" * 40
A1 = "users/alice/devices/esp-a00001"
B1 = "users/bob/devices/esp-b00001"


class AuthServer:
    """The backend's http-auth routes served over real HTTP (RabbitMQ calls them)."""

    def __init__(self, broker: HttpAuthBroker) -> None:
        self.port = free_port()
        app = Starlette(routes=http_auth_routes(broker))
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> AuthServer:
        self.thread.start()
        wait_for_port(self.port)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[tuple[HttpAuthBroker, RabbitCluster]]:
    broker = HttpAuthBroker(
        broker_url="mqtt://127.0.0.1:1883",
        shared_secret=SECRET,
        store=LoginFile(tmp_path / "logins.json"),
    )
    with AuthServer(broker) as auth:
        url = f"http://127.0.0.1:{auth.port}/mqtt/rabbitmq/{SECRET}"
        manager = rabbit_cluster(tmp_path / "rabbit", url)
        running = await asyncio.to_thread(manager.__enter__)
        try:
            yield broker, running
        finally:
            await asyncio.to_thread(manager.__exit__, None, None, None)


def v311(port: int, login: BrokerLogin, client_id: str | None = None) -> Probe:
    """RabbitMQ 3.10 speaks MQTT 3.1.1 only."""
    return Probe(
        port, login.username, login.password, client_id or login.client_id, protocol=mqtt.MQTTv311
    )


async def test_pump_story_and_isolation_across_a_two_node_cluster(cluster):
    broker, rabbit = cluster
    node0, node1 = (n.mqtt_port for n in rabbit.nodes)
    alice_app, alice_app2 = dashboard_login("alice", "a1"), dashboard_login("alice", "a2")
    alice_dev = device_login("alice", "ESP-A00001")
    bob_app, bob_dev = dashboard_login("bob", "b1"), device_login("bob", "ESP-B00001")
    await broker.put_logins([alice_app, alice_app2, alice_dev, bob_app, bob_dev])
    probes: list[Probe] = []

    def probe(port: int, login: BrokerLogin, client_id: str | None = None) -> Probe:
        made = v311(port, login, client_id)
        probes.append(made)
        return made

    try:
        # The pump story: device on node 0, dashboard on node 1.
        device = probe(node0, alice_dev)
        assert await device.connect(will=(f"{A1}/status", b"offline", True)) == 0
        assert await device.subscribe(f"{A1}/pump/set", f"{A1}/schedule/set") == [1, 1]
        assert await device.publish(f"{A1}/status", "online", retain=True) == 0
        app = probe(node1, alice_app)
        assert await app.connect() == 0
        assert await app.subscribe("users/alice/#") == [1]
        command = {"cmd_id": "c1", "on": True, "ts": "2026-11-27T14:00:00Z"}
        assert await app.publish(f"{A1}/pump/set", json.dumps(command)) == 0
        (got,) = await device.wait_for(f"{A1}/pump/set")
        state = {
            "on": True,
            "mode": "manual",
            "until": None,
            "cmd_id": json.loads(got.payload)["cmd_id"],
        }
        assert await device.publish(f"{A1}/pump/state", json.dumps(state), retain=True) == 0
        (echo,) = await app.wait_for(f"{A1}/pump/state")
        assert json.loads(echo.payload)["cmd_id"] == "c1"
        # Retained messages in RabbitMQ 3.10: only a subscription to the exact topic gets one
        # (not `users/alice/#`, what the app subscribes to), and only on the node where it was
        # retained. The app on node 1 got nothing; an exact subscription on node 0 does.
        assert app.got(f"{A1}/status") == []
        near = probe(node0, alice_app2)
        assert await near.connect() == 0
        assert await near.subscribe(f"{A1}/status") == [1]
        assert (await near.wait_for(f"{A1}/status"))[0].payload == b"online"
        assert await app.subscribe(f"{A1}/status") == [1]
        assert await device.publish(f"{A1}/telemetry", "{}") == 0  # a marker after it
        await app.wait_for(f"{A1}/telemetry")
        assert app.got(f"{A1}/status") == []

        # Client-id binding: bob's login cannot take alice's device's client id, on either node.
        for port in (node0, node1):
            thief = probe(port, bob_app, client_id=alice_dev.client_id)
            assert await thief.connect() not in (0, -1)
        # Wrong password.
        liar = Probe(
            node1, alice_app.username, "wrong", alice_app.client_id, protocol=mqtt.MQTTv311
        )
        probes.append(liar)
        assert await liar.connect() not in (0, -1)

        async def subscribe_refused(port: int, login: BrokerLogin, topic: str) -> bool:
            """RabbitMQ 3.10 answers a refused subscription by closing the connection."""
            client = probe(port, login)
            assert await client.connect() == 0
            rc, _mid = client.client.subscribe(topic, qos=1)
            assert rc == mqtt.MQTT_ERR_SUCCESS
            return await client.wait_disconnected()

        # Receive-deny: no subscription outside one's own user, `#` or another `$share` group.
        for topic in ("users/alice/#", "#", "$share/x/users/alice/#", f"{A1}/status"):
            assert await subscribe_refused(node1, bob_app, topic), topic
        assert await subscribe_refused(node0, bob_dev, "users/bob/devices/+/pump/state")
        bob = probe(node1, bob_app)
        assert await bob.connect() == 0
        assert await bob.subscribe("users/bob/#") == [1]

        # A foreign command never reaches alice's device (RabbitMQ closes the publisher).
        bob.client.publish(f"{A1}/pump/set", json.dumps({**command, "cmd_id": "evil"}), qos=1)
        assert await bob.wait_disconnected()
        command2 = {**command, "cmd_id": "c2"}
        assert await app.publish(f"{A1}/pump/set", json.dumps(command2)) == 0
        await device.wait_for(f"{A1}/pump/set", count=2)
        assert [json.loads(m.payload)["cmd_id"] for m in device.got(f"{A1}/pump/set")] == [
            "c1",
            "c2",
        ]

        # Wills: one on another tenant's topic is dropped; a device's own will is delivered
        # (to a dashboard on the other node).
        watcher = probe(node1, bob_app)
        assert await watcher.connect() == 0
        assert await watcher.subscribe("users/bob/#") == [1]
        rogue = probe(node0, bob_dev)
        assert await rogue.connect(will=(f"{A1}/status", b"hacked", False)) == 0
        rogue.drop()
        honest = probe(node0, bob_dev)
        assert await honest.connect(will=(f"{B1}/status", b"offline", False)) == 0
        honest.drop()
        assert (await watcher.wait_for(f"{B1}/status"))[0].payload == b"offline"
        assert b"hacked" not in [m.payload for m in app.got(f"{A1}/status")]

        # Revocation: a deleted login cannot connect again nor subscribe anew on its open
        # connection (RabbitMQ asks at every new subscription; there is no kick without the
        # management API).
        await broker.delete_login(alice_app2.username)
        near.client.subscribe(f"{A1}/telemetry", qos=1)
        assert await near.wait_disconnected()
        again = probe(node1, alice_app2)
        assert await again.connect() not in (0, -1)
    finally:
        for made in probes:
            made.close()
