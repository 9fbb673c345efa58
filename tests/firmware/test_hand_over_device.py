"""The unit's side of a hand-over (docs/sharing.md, "MQTT: a new binding for a bound device"):
the simulated controller running the unchanged firmware, a real managed Mosquitto holding the
old and the new device login, and the backend's hand-over login (mover_rights) played by a paho
probe. The unit takes its new binding over its current connection, moves, stores it, and
answers; a refused login or a bad binding leaves it where it was."""

from __future__ import annotations

import json

import jsonschema
import pytest

from pooldesk_contract.schema import topic_schema
from pooldesk_firmware.sim.runner import SimulatedController
from pooldesk_server.broker.base import BrokerLogin
from pooldesk_server.broker.logins import dashboard_login, device_login, new_password
from pooldesk_server.broker.rights import device_prefix, mover_rights
from tests.broker.conftest import broker, data_dir  # noqa: F401 - the real managed Mosquitto
from tests.broker.probe import Probe

pytestmark = pytest.mark.timeout(120)


def _binding(port: int, login: BrokerLogin, username: str, device_id: str) -> dict:
    return {
        "ssid": "PoolNet",
        "password": "poolpass123",
        "broker_url": f"mqtt://127.0.0.1:{port}",
        "mqtt_user": login.username,
        "mqtt_password": login.password,
        "client_id": login.client_id,
        "topic_prefix": device_prefix(username, device_id),
        "username": username,
        "ca_cert": None,
    }


def _set(tid: str, login: BrokerLogin, prefix: str) -> bytes:
    return json.dumps(
        {
            "v": 1,
            "transfer_id": tid,
            "topic_prefix": prefix,
            "mqtt_username": login.username,
            "mqtt_password": login.password,
            "client_id": login.client_id,
            "ts": "2026-12-06T12:00:00Z",
        }
    ).encode()


class World:
    """The broker, the unit's old and new login, and the hand-over login."""

    def __init__(self, broker, device_id: str) -> None:  # noqa: F811
        self.broker = broker
        self.device_id = device_id
        self.old = device_login("olduser", self.device_id, generation="01d")
        self.new = device_login("newuser", self.device_id, generation="0e1")
        self.old_prefix = device_prefix("olduser", self.device_id)
        self.new_prefix = device_prefix("newuser", self.device_id)
        self.mover_login = BrokerLogin("svc-move-t", new_password(), "svc-move-t", mover_rights())
        self.probes: list[Probe] = []
        self.sim: SimulatedController

    async def probe(self, login: BrokerLogin, *subscriptions: str) -> Probe:
        p = Probe.of(self.broker.port, login)
        self.probes.append(p)
        assert await p.connect() == 0
        if subscriptions:
            assert await p.subscribe(*subscriptions) == [1] * len(subscriptions)
        return p

    def answers(self, mover: Probe, prefix: str) -> list[dict]:
        return [json.loads(m.payload) for m in mover.got(f"{prefix}/binding/state")]

    def close(self) -> None:
        for p in self.probes:
            p.close()


@pytest.fixture
async def world(broker, tmp_path):  # noqa: F811
    sim = SimulatedController(tmp_path / "flash", index=40)
    w = World(broker, sim.device_id)
    w.sim = sim
    await broker.put_logins([w.old, w.mover_login])
    sim._write_binding(_binding(broker.port, w.old, "olduser", w.device_id))
    try:
        yield w
    finally:
        w.close()
        await w.sim.stop()


async def test_the_unit_moves_to_its_new_login_stores_it_and_answers_on_the_new_prefix(world):
    w, sim = world, world.sim
    await w.broker.put_login(w.new)
    await sim.start()
    await sim.wait_until(lambda: sim.online, 15)
    mover = await w.probe(w.mover_login, "users/+/devices/+/binding/state")
    assert (
        await mover.publish(f"{w.old_prefix}/binding/set", _set("t-1", w.new, w.new_prefix), True)
        == 0
    )

    await mover.wait_for(f"{w.new_prefix}/binding/state")
    assert [a["result"] for a in w.answers(mover, w.new_prefix)] == ["ok"]
    assert w.answers(mover, w.new_prefix)[0]["transfer_id"] == "t-1"
    # It names the login it took (the backend may have sent another under the same transfer).
    assert w.answers(mover, w.new_prefix)[0]["mqtt_user"] == w.new.username
    stored = sim.stored_config()
    assert stored["binding"]["topic_prefix"] == w.new_prefix
    assert stored["binding"]["mqtt_user"] == w.new.username
    assert stored["binding"]["username"] == "newuser"
    assert stored["binding"]["ssid"] == "PoolNet"  # the rest of the binding is kept
    assert sim.controller.topic_prefix == w.new_prefix

    # The new owner's dashboard switches the pump; the answer came from the new login.
    owner = dashboard_login("newuser", "0e11e1")
    await w.broker.put_login(owner)
    dash = await w.probe(owner, "users/newuser/devices/+/pump/state")
    assert (
        await dash.publish(f"{w.new_prefix}/pump/set", json.dumps({"cmd_id": "n1", "on": True}))
        == 0
    )
    await sim.wait_until(lambda: sim.relay_on)

    # The same transfer_id again: `ok` again, nothing changes (no new write to the flash).
    seq = sim.controller.store.seq
    assert (
        await mover.publish(f"{w.new_prefix}/binding/set", _set("t-1", w.new, w.new_prefix), True)
        == 0
    )
    await mover.wait_for(f"{w.new_prefix}/binding/state", 2)
    assert [a["result"] for a in w.answers(mover, w.new_prefix)] == ["ok", "ok"]
    assert sim.controller.store.seq == seq

    # After a power cycle it comes back on the new login and says `ok` once more (an answer
    # lost with the connection is never lost for good).
    await sim.reboot()
    await sim.wait_until(lambda: sim.online, 15)
    await mover.wait_for(f"{w.new_prefix}/binding/state", 3)
    assert sim.controller.topic_prefix == w.new_prefix
    assert {a.get("mqtt_user") for a in w.answers(mover, w.new_prefix)} == {w.new.username}
    for answer in w.answers(mover, w.new_prefix):  # as the contract says
        jsonschema.validate(answer, topic_schema("binding/state"))


async def test_a_refused_login_leaves_the_unit_on_its_old_binding(world):
    w, sim = world, world.sim  # the new login is never put at the broker: refused
    await sim.start()
    await sim.wait_until(lambda: sim.online, 15)
    before = sim.stored_config()
    mover = await w.probe(w.mover_login, "users/+/devices/+/binding/state")
    assert (
        await mover.publish(f"{w.old_prefix}/binding/set", _set("t-2", w.new, w.new_prefix), True)
        == 0
    )

    answer = (await mover.wait_for(f"{w.old_prefix}/binding/state"))[0]
    body = json.loads(answer.payload)
    assert (body["transfer_id"], body["result"], body["reason"]) == ("t-2", "failed", "refused")
    await sim.wait_until(lambda: sim.online, 15)
    assert sim.controller.topic_prefix == w.old_prefix
    assert sim.stored_config()["binding"] == before["binding"]
    # The retained set came back with the reconnection: answered again, not tried again.
    await mover.wait_for(f"{w.old_prefix}/binding/state", 2)
    assert all(a["result"] == "failed" for a in w.answers(mover, w.old_prefix))
    for a in w.answers(mover, w.old_prefix):  # names no login: it took none
        jsonschema.validate(a, topic_schema("binding/state"))
    assert w.answers(mover, w.new_prefix) == []

    # The old owner still has it.
    owner = dashboard_login("olduser", "01d0e1")
    await w.broker.put_login(owner)
    dash = await w.probe(owner)
    assert (
        await dash.publish(f"{w.old_prefix}/pump/set", json.dumps({"cmd_id": "o1", "on": True}))
        == 0
    )
    await sim.wait_until(lambda: sim.relay_on)


@pytest.mark.parametrize(
    "change",
    [
        {"topic_prefix": "users/newuser/devices/esp-ffffff"},  # another unit's prefix
        {"topic_prefix": "users/new+user/devices/x"},
        {"mqtt_username": 7},
        {"client_id": ""},
        {"v": 2},
    ],
)
async def test_an_invalid_binding_is_refused_without_leaving_the_connection(world, change):
    w, sim = world, world.sim
    await w.broker.put_login(w.new)
    await sim.start()
    await sim.wait_until(lambda: sim.online, 15)
    client = sim.controller.client
    mover = await w.probe(w.mover_login, "users/+/devices/+/binding/state")
    body = json.loads(_set("t-3", w.new, w.new_prefix))
    body.update(change)
    assert await mover.publish(f"{w.old_prefix}/binding/set", json.dumps(body), True) == 0
    (answer,) = await mover.wait_for(f"{w.old_prefix}/binding/state")
    got = json.loads(answer.payload)
    assert (got["transfer_id"], got["result"], got["reason"]) == ("t-3", "failed", "invalid")
    assert sim.controller.client is client
    assert sim.online
    assert sim.stored_config()["binding"]["topic_prefix"] == w.old_prefix
