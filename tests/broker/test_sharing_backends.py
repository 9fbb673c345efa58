"""A change of shares keeps the member's dashboard login on every back end (docs/sharing.md):
its rights change in place, before the HTTP answer; a live connection is cut only when it lost
a right, and the credentials the app holds keep working with the rights it still has.

The managed broker is covered by `test_sharing.py`; here: an independently started Mosquitto
with dynamic security (the `mosquitto` back end), `http-auth` answering the broker's questions
(kicks through EMQX's client API) and `hivemq-cloud` against its REST API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pooldesk_server.broker.http_auth import EmqxKick, HttpAuthBroker, LoginFile
from pooldesk_server.broker.mosquitto import ExternalMosquitto
from pooldesk_server.broker.service.extension import BrokerExtension
from tests.broker.app_support import Backend, app_settings, open_backend, probe_for
from tests.broker.fake_hivemq import FakeHiveMQ
from tests.broker.probe import NOT_AUTHORIZED, REFUSED_SUBSCRIBE
from tests.broker.test_external_mosquitto import _env, stock_mosquitto  # noqa: F401
from tests.broker.test_hivemq import cloud_of
from tests.broker.test_http_auth import SECRET, FakeEmqxApi
from tests.broker.test_sharing import A1, P1, _device, _household, _share
from tests.support.ports import wait_for_port


async def _running(data_dir: Path, backend) -> AsyncIterator[Backend]:
    extension = BrokerExtension(app_settings(data_dir), backend)
    async for running in open_backend(data_dir, extension):
        yield running


async def _role(backend: Backend, owner: dict, share_id: str, role: str) -> None:
    changed = await backend.http.patch(
        f"/api/shares/{share_id}", json={"role": role}, headers=owner
    )
    assert changed.status_code == 200, changed.text


@pytest.fixture
async def on_mosquitto(backend_dir: Path, stock_mosquitto: int) -> AsyncIterator[Backend]:  # noqa: F811
    async for running in _running(backend_dir, ExternalMosquitto.from_env(_env(stock_mosquitto))):
        yield running


async def test_an_external_mosquitto_changes_rights_in_place(on_mosquitto: Backend):
    backend = on_mosquitto
    alice, vera, _otto = await _household(backend)
    creds = await backend.mqtt_credentials(vera)  # issued before any share
    member = probe_for(creds)
    assert await member.connect() == 0
    assert (await member.subscribe(f"{P1}/#"))[0] in REFUSED_SUBSCRIBE

    # Accepted: widened in place, the live connection stays and reaches the device at once.
    share_id = await _share(backend, alice, vera, "vera", "operator")
    assert await member.subscribe(f"{P1}/#") == [1]
    dev1 = await _device(backend, alice, A1)
    assert await dev1.subscribe(f"{P1}/pump/set") == [1]
    assert await member.publish(f"{P1}/pump/set", '{"cmd_id": "op"}') == 0
    await dev1.wait_for(f"{P1}/pump/set")
    assert not member.disconnected.is_set()

    # Operator -> viewer: cut before the answer; the same credentials sign in, narrower.
    _, cut = await member.cut_by(_role(backend, alice, share_id, "viewer"))
    assert cut, "a lost right must cut the connection before the answer"
    assert await member.wait_disconnected(), "a lost right must cut the connection"
    member.close()
    member = probe_for(creds)
    assert await member.connect() == 0
    assert await member.subscribe(f"{P1}/#") == [1]
    assert await member.publish(f"{P1}/pump/set", "{}") == NOT_AUTHORIZED
    assert await dev1.publish(f"{P1}/status", "online") == 0
    await member.wait_for(f"{P1}/status")
    assert (await backend.rows())[creds["mqttUser"]] == "synced"  # the same login

    # Ended: cut; the same credentials still sign in, the device is out of reach.
    ended, cut = await member.cut_by(backend.http.delete(f"/api/shares/{share_id}", headers=alice))
    assert ended.status_code == 200, ended.text
    assert cut, "an ended share must cut the connection before the answer"
    assert await member.wait_disconnected()
    member.close()
    member = probe_for(creds)
    assert await member.connect() == 0
    assert (await member.subscribe(f"{P1}/#"))[0] in REFUSED_SUBSCRIBE
    assert await member.subscribe("users/vera/#") == [1]
    for p in (member, dev1):
        p.close()


@pytest.fixture
async def emqx(backend_dir: Path) -> AsyncIterator[tuple[Backend, FakeEmqxApi]]:
    api = FakeEmqxApi("key-1", "secret-1", connected=set())
    serving = asyncio.create_task(api.server.serve())
    try:
        await asyncio.to_thread(wait_for_port, api.port)
        broker = HttpAuthBroker(
            broker_url="mqtts://cluster.example:8883",
            shared_secret=SECRET,
            store=LoginFile(backend_dir / "http-auth-logins.json"),
            kick=EmqxKick(api.url, "key-1", "secret-1"),
        )
        async for running in _running(backend_dir, broker):
            yield running, api
    finally:
        api.server.should_exit = True
        await serving


async def test_http_auth_changes_rights_in_place_and_kicks_only_on_a_loss(emqx):
    backend, api = emqx
    secret = {"Authorization": f"Bearer {SECRET}"}
    alice, vera, _otto = await _household(backend)
    creds = await backend.mqtt_credentials(vera)
    api.connected.add(creds["clientId"])  # the member's app is connected

    async def signs_in() -> bool:
        body = {k: creds[c] for k, c in (("username", "mqttUser"), ("password", "mqttPassword"))}
        body["clientid"] = creds["clientId"]
        answer = await backend.http.post("/mqtt/emqx/authn", json=body, headers=secret)
        return answer.json()["result"] == "allow"

    async def may(action: str, topic: str) -> bool:
        body = {
            "username": creds["mqttUser"],
            "clientid": creds["clientId"],
            "topic": topic,
            "action": action,
        }
        answer = await backend.http.post("/mqtt/emqx/authz", json=body, headers=secret)
        return answer.json()["result"] == "allow"

    assert not await may("subscribe", f"{P1}/#")
    share_id = await _share(backend, alice, vera, "vera", "operator")
    assert await may("subscribe", f"{P1}/#")
    assert await may("publish", f"{P1}/pump/set")
    assert api.kicked == []  # widening keeps the connection

    await _role(backend, alice, share_id, "viewer")
    assert api.kicked == [creds["clientId"]]  # before the answer
    assert await signs_in()  # the app reconnects with the same credentials
    assert await may("subscribe", f"{P1}/#")
    assert not await may("publish", f"{P1}/pump/set")
    assert (await backend.rows())[creds["mqttUser"]] == "synced"

    api.connected.add(creds["clientId"])
    ended = await backend.http.delete(f"/api/shares/{share_id}", headers=alice)
    assert ended.status_code == 200, ended.text
    assert api.kicked == [creds["clientId"]] * 2
    assert await signs_in()
    assert not await may("subscribe", f"{P1}/#")
    assert await may("subscribe", "users/vera/#")


@pytest.fixture
async def cloud(backend_dir: Path) -> AsyncIterator[tuple[Backend, FakeHiveMQ]]:
    fake = FakeHiveMQ(token="tok-" + "x" * 30)
    async for running in _running(backend_dir, cloud_of(fake)):
        yield running, fake


async def test_hivemq_cloud_changes_rights_in_place_and_disconnects_only_on_a_loss(cloud):
    backend, fake = cloud
    alice, vera, _otto = await _household(backend)
    creds = await backend.mqtt_credentials(vera)
    user, client_id = creds["mqttUser"], creds["clientId"]
    issued = fake.disconnected.count(client_id)  # issuing cuts an older password's connection
    assert not fake.can_subscribe(user, f"{P1}/pump/state")
    share_id = await _share(backend, alice, vera, "vera", "operator")
    assert fake.can_subscribe(user, f"{P1}/pump/state")
    assert fake.can_publish(user, f"{P1}/pump/set")
    assert fake.disconnected.count(client_id) == issued  # widening keeps the connection

    await _role(backend, alice, share_id, "viewer")
    assert fake.disconnected.count(client_id) == issued + 1
    assert fake.can_connect(user, creds["mqttPassword"])  # the same credentials
    assert fake.can_subscribe(user, f"{P1}/pump/state")
    assert not fake.can_publish(user, f"{P1}/pump/set")

    ended = await backend.http.delete(f"/api/shares/{share_id}", headers=alice)
    assert ended.status_code == 200, ended.text
    assert fake.disconnected.count(client_id) == issued + 2
    assert fake.can_connect(user, creds["mqttPassword"])
    assert not fake.can_subscribe(user, f"{P1}/pump/state")
    assert fake.can_subscribe(user, "users/vera/devices/+/pump/state")
