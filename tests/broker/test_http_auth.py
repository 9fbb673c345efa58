"""The http-auth back end answering EMQX's and mosquitto-go-auth's requests, per their contracts."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pooldesk_server.broker.base import BrokerBackend, BrokerRejected, BrokerUnavailable
from pooldesk_server.broker.http_auth import HttpAuthBroker, LoginFile, http_auth_routes
from pooldesk_server.broker.logins import (
    dashboard_login,
    device_login,
    new_password,
    recorder_login,
)
from pooldesk_server.broker.matching import allowed, filter_within, topic_matches
from pooldesk_server.broker.mosquitto import BrokerConfigError
from pooldesk_server.broker.rights import AclRule, dashboard_rights
from pooldesk_server.broker.service.config import build_backend
from tests.backend.test_cli import run_cli
from tests.broker.app_support import app_settings
from tests.support.ports import free_port, wait_for_port

SECRET = "s" * 40
A1 = "users/alice/devices/esp-a00001"


@pytest.fixture
async def setup(tmp_path):
    broker = HttpAuthBroker(
        broker_url="mqtts://cluster.example:8883",
        shared_secret=SECRET,
        store=LoginFile(tmp_path / "logins.json"),
    )
    alice = dashboard_login("alice", "s1")
    device = device_login("alice", "ESP-A00001")
    bob = dashboard_login("bob", "s2")
    recorder = recorder_login()
    await broker.put_logins([alice, device, bob, recorder])
    app = Starlette(routes=http_auth_routes(broker))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://backend",
        headers={"Authorization": f"Bearer {SECRET}"},
    ) as http:
        yield broker, http, {"alice": alice, "device": device, "bob": bob, "recorder": recorder}


def _creds(login):
    return {"username": login.username, "password": login.password, "clientid": login.client_id}


async def test_emqx_authentication(setup):
    broker, http, logins = setup
    assert isinstance(broker, BrokerBackend)
    ok = await http.post("/mqtt/emqx/authn", json=_creds(logins["alice"]))
    assert ok.status_code == 200
    body = ok.json()
    assert body["result"] == "allow"
    assert body["is_superuser"] is False
    # No acl for EMQX to cache per connection: every access is asked at /mqtt/emqx/authz, so a
    # deleted login loses its rights at once (review finding #5).
    assert "acl" not in body
    for wrong in (
        {**_creds(logins["alice"]), "password": "nope"},
        {**_creds(logins["alice"]), "clientid": logins["bob"].client_id},  # client id takeover
        {**_creds(logins["bob"]), "password": logins["alice"].password},
        {"username": "ghost", "password": "x", "clientid": "ghost"},
    ):
        assert (await http.post("/mqtt/emqx/authn", json=wrong)).json()["result"] == "deny"


async def test_emqx_authorization(setup):
    _, http, logins = setup

    async def decide(login, action, topic):
        body = {
            "username": login.username,
            "clientid": login.client_id,
            "topic": topic,
            "action": action,
        }
        return (await http.post("/mqtt/emqx/authz", json=body)).json()["result"]

    alice, bob, device = logins["alice"], logins["bob"], logins["device"]
    assert await decide(alice, "subscribe", "users/alice/#") == "allow"
    assert await decide(alice, "publish", f"{A1}/pump/set") == "allow"
    assert await decide(device, "publish", f"{A1}/pump/state") == "allow"
    assert await decide(logins["recorder"], "subscribe", "$share/recorder/users/+/devices/+/#") == (
        "allow"
    )
    for login, action, topic in [
        (bob, "subscribe", "users/alice/#"),
        (bob, "subscribe", "#"),
        (bob, "subscribe", "users/+/devices/+/pump/state"),
        (bob, "subscribe", "$SYS/#"),
        (bob, "subscribe", "$share/g/users/alice/#"),
        (bob, "publish", f"{A1}/pump/set"),
        (alice, "publish", f"{A1}/pump/state"),
        (device, "subscribe", "users/alice/devices/esp-a00002/pump/set"),
        (device, "subscribe", f"{A1}/pump/state"),
        (alice, "publish", "users/alice/devices/+/pump/set"),
        (alice, "retain", "users/alice/#"),
    ]:
        assert await decide(login, action, topic) == "deny", (login.username, action, topic)
    # The right login with another client id is not the right login.
    spoof = {
        "username": alice.username,
        "clientid": "other",
        "topic": "users/alice/x",
        "action": "subscribe",
    }
    assert (await http.post("/mqtt/emqx/authz", json=spoof)).json()["result"] == "deny"


async def test_mosquitto_go_auth(setup):
    _, http, logins = setup
    alice, bob, device = logins["alice"], logins["bob"], logins["device"]
    assert (await http.post("/mqtt/go-auth/user", json=_creds(device))).status_code == 200
    bad = {**_creds(device), "password": "wrong"}
    denied = await http.post("/mqtt/go-auth/user", json=bad)
    assert denied.status_code == 403
    assert denied.json()["ok"] is False
    su = await http.post("/mqtt/go-auth/superuser", json={"username": alice.username})
    assert su.status_code == 403

    async def acl(login, topic, acc):
        body = {"username": login.username, "clientid": login.client_id, "topic": topic, "acc": acc}
        return (await http.post("/mqtt/go-auth/acl", json=body)).status_code

    assert await acl(alice, "users/alice/#", 4) == 200
    assert await acl(alice, f"{A1}/pump/state", 1) == 200
    assert await acl(device, f"{A1}/pump/set", 1) == 200
    assert await acl(device, f"{A1}/telemetry", 2) == 200
    assert await acl(bob, f"{A1}/pump/state", 1) == 403
    assert await acl(bob, "users/alice/#", 4) == 403
    assert await acl(device, f"{A1}/telemetry", 3) == 403  # may write, not read
    assert await acl(device, f"{A1}/telemetry", 9) == 403


async def test_secret_rotation_deletion_and_persistence(setup, tmp_path):
    broker, http, logins = setup
    no_secret = await http.post(
        "/mqtt/emqx/authn", json=_creds(logins["alice"]), headers={"Authorization": "Bearer wrong"}
    )
    assert no_secret.status_code == 401
    garbage = await http.post("/mqtt/go-auth/user", content=b"not json")
    assert garbage.status_code == 403

    rotated = replace(logins["device"], password=new_password())
    await broker.put_login(rotated)
    assert (await http.post("/mqtt/go-auth/user", json=_creds(logins["device"]))).status_code == 403
    assert (await http.post("/mqtt/go-auth/user", json=_creds(rotated))).status_code == 200

    reloaded = LoginFile(tmp_path / "logins.json")  # a backend restart
    assert reloaded.get(rotated.username).password_ok(rotated.password)
    assert rotated.password not in (tmp_path / "logins.json").read_text()
    assert oct((tmp_path / "logins.json").stat().st_mode & 0o777) == "0o600"

    await broker.delete_login(rotated.username)
    await broker.delete_login(rotated.username)
    assert (await http.post("/mqtt/go-auth/user", json=_creds(rotated))).status_code == 403
    body = {
        "username": rotated.username,
        "clientid": rotated.client_id,
        "topic": f"{A1}/telemetry",
        "acc": 2,
    }
    assert (await http.post("/mqtt/go-auth/acl", json=body)).status_code == 403
    with pytest.raises(BrokerRejected):
        await broker.put_login(replace(rotated, rights=(AclRule("publishClientSend", "a/#/b"),)))


def test_topic_matching_rules():
    assert topic_matches("users/+/devices/+/#", "users/a/devices/d/pump/state")
    assert topic_matches("a/#", "a")
    assert not topic_matches("#", "$SYS/broker")
    assert not topic_matches("users/a/#", "users/b/x")
    assert filter_within("users/alice/devices/+/pump/state", "users/alice/#")
    assert not filter_within("users/+/x", "users/alice/#")
    assert not filter_within("#", "users/#")
    assert not filter_within("$SYS/#", "#")
    rights = dashboard_rights("alice")
    assert allowed(rights, "subscribe", "users/alice/devices/+/pump/state")
    assert not allowed(rights, "subscribe", "users/alice/#/x")
    assert not allowed(rights, "publish", "users/alice/devices/+/pump/set")


class FakeEmqxApi:
    """A local HTTP server following EMQX 5's documented client kick: `DELETE
    /api/v5/clients/{clientid}` with basic auth; 204 when kicked, 404 when not connected."""

    def __init__(self, key: str, secret: str, connected: set[str]) -> None:
        self.key, self.secret, self.connected = key, secret, connected
        self.kicked: list[str] = []
        self.port = free_port()

        async def kick(request):
            expected = httpx.BasicAuth(key, secret)._auth_header
            if request.headers.get("authorization") != expected:
                return JSONResponse({"code": "BAD_API_KEY_OR_SECRET"}, status_code=401)
            client_id = request.path_params["clientid"]
            if client_id not in self.connected:
                return JSONResponse({"code": "CLIENTID_NOT_FOUND"}, status_code=404)
            self.connected.discard(client_id)
            self.kicked.append(client_id)
            return Response(status_code=204)

        app = Starlette(routes=[Route("/api/v5/clients/{clientid}", kick, methods=["DELETE"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v5"


async def test_deleting_a_login_kicks_its_connection_through_emqx_api(tmp_path):
    device = device_login("alice", "ESP-A00001")
    api = FakeEmqxApi("key-1", "secret-1", connected={device.client_id})
    serving = asyncio.create_task(api.server.serve())
    try:
        await asyncio.to_thread(wait_for_port, api.port)
        settings = app_settings(tmp_path)
        env = {
            "POOLDESK_BROKER": "http-auth",
            "MQTT_BROKER_URL": "mqtts://cluster.example:8883",
            "POOLDESK_HTTP_AUTH_SECRET": SECRET,
            "POOLDESK_EMQX_API_URL": api.url,
            "POOLDESK_EMQX_API_KEY": "key-1",
            "POOLDESK_EMQX_API_SECRET": "secret-1",
        }
        broker = build_backend(settings, env=env)
        await broker.put_login(device)
        await broker.delete_login(device.username)
        assert api.kicked == [device.client_id]
        assert device.username not in await broker.list_logins()
        await broker.delete_login(device.username)  # gone already: nothing to kick

        wrong_key = build_backend(settings, env={**env, "POOLDESK_EMQX_API_SECRET": "nope"})
        await wrong_key.put_login(device)
        with pytest.raises(BrokerRejected, match="POOLDESK_EMQX_API_KEY"):
            await wrong_key.delete_login(device.username)
        assert device.username in await wrong_key.list_logins()  # kept: retried later
        with pytest.raises(BrokerConfigError, match="POOLDESK_EMQX_API_SECRET"):
            build_backend(settings, env={**env, "POOLDESK_EMQX_API_SECRET": ""})
    finally:
        api.server.should_exit = True
        await serving
    unreachable = build_backend(settings, env=env)  # the API is down now
    await unreachable.put_login(device)
    with pytest.raises(BrokerUnavailable):
        await unreachable.delete_login(device.username)
    assert device.username in await unreachable.list_logins()


async def test_rabbitmq_http_auth(setup):
    """RabbitMQ's HTTP auth back end: form bodies, `allow`/`deny`, the secret in the path."""
    _, http, logins = setup
    alice = logins["alice"]

    async def ask(kind, secret=SECRET, **form):
        answer = await http.post(f"/mqtt/rabbitmq/{secret}/{kind}", data=form)
        assert answer.status_code == 200
        return answer.text

    user = {"username": alice.username, "password": alice.password, "vhost": "/"}
    assert await ask("user", client_id=alice.client_id, **user) == "allow"
    assert await ask("user", secret="x" * 40, client_id=alice.client_id, **user) == "deny"
    assert await ask("user", client_id=logins["bob"].client_id, **user) == "deny"
    assert await ask("user", client_id=alice.client_id, **{**user, "password": "no"}) == "deny"
    who = {"username": alice.username, "vhost": "/", "client_id": alice.client_id}
    assert await ask("vhost", ip="127.0.0.1", **who) == "allow"
    assert await ask("vhost", ip="127.0.0.1", **{**who, "vhost": "other"}) == "deny"
    own_queue = f"mqtt-subscription-{alice.client_id}qos1"
    assert await ask("resource", resource="queue", name=own_queue, permission="read", **who) == (
        "allow"
    )
    other_queue = f"mqtt-subscription-{logins['bob'].client_id}qos1"
    assert await ask("resource", resource="queue", name=other_queue, permission="read", **who) == (
        "deny"
    )
    topic = {
        "username": alice.username,
        "vhost": "/",
        "resource": "topic",
        "name": "amq.topic",
        "variable_map.client_id": alice.client_id,
    }
    assert await ask("topic", permission="read", routing_key="users.alice.#", **topic) == "allow"
    assert await ask("topic", permission="read", routing_key="users.bob.#", **topic) == "deny"
    assert await ask("topic", permission="read", routing_key="#", **topic) == "deny"
    set_key = "users.alice.devices.*.pump.set"
    assert await ask("topic", permission="write", routing_key=set_key, **topic) == "deny"
    one = "users.alice.devices.esp-a00001.pump.set"
    assert await ask("topic", permission="write", routing_key=one, **topic) == "allow"
    state = "users.alice.devices.esp-a00001.pump.state"
    assert await ask("topic", permission="write", routing_key=state, **topic) == "deny"


async def test_without_a_kick_the_operator_is_told_what_live_connections_keep(
    setup, tmp_path, caplog
):
    """Without EMQX's API the backend cannot cut a live connection: said at start, with the
    settings that fix it; with a kick, nothing to say."""
    broker, _http, _logins = setup
    with caplog.at_level(logging.WARNING, logger="pooldesk_server.broker.http_auth"):
        await broker.start()
    assert "POOLDESK_EMQX_API_URL" in caplog.text
    caplog.clear()

    async def kick(_client_id: str) -> None:
        return None

    kicking = HttpAuthBroker(
        broker_url="mqtts://cluster.example:8883",
        shared_secret=SECRET,
        store=LoginFile(tmp_path / "kicking.json"),
        kick=kick,
    )
    with caplog.at_level(logging.WARNING, logger="pooldesk_server.broker.http_auth"):
        await kicking.start()
    assert caplog.text == ""


def test_serve_with_several_workers_refuses_http_auth_and_says_what_to_do(tmp_path):
    """Its logins live in one process's memory: a second worker would answer the broker from a
    copy that never heard of a login issued or revoked on the first."""
    env = {
        "POOLDESK_BROKER": "http-auth",
        "MQTT_BROKER_URL": "mqtts://cluster.example:8883",
        "POOLDESK_HTTP_AUTH_SECRET": SECRET,
    }
    args = ("serve", "--workers", "2", "--port", str(free_port()), "--data-dir", "d")
    done = run_cli(*args, cwd=tmp_path, **env)
    assert done.returncode != 0
    assert "serve it with one worker (POOLDESK_WORKERS=1, --workers 1)" in done.stderr
    assert "Traceback" not in done.stderr


async def test_a_login_counts_as_used_once_the_broker_accepted_it(setup):
    """A device's replaced login is retired only once the device's latest log-in was with its
    new one (docs/mqtt.md, "Rotation"): the back end tells when each login was last used."""
    broker, http, logins = setup
    device, alice = logins["device"], logins["alice"]
    names = [device.username, alice.username]

    async def log_in(login, password=None) -> str:
        creds = {**_creds(login), **({"password": password} if password else {})}
        return (await http.post("/mqtt/emqx/authn", json=creds)).json()["result"]

    assert await broker.logins_used(names) == {}
    assert await log_in(device, "nope") == "deny"
    assert await broker.logins_used(names) == {}  # a refused attempt is no use
    assert await log_in(device) == "allow"
    assert list(await broker.logins_used(names)) == [device.username]
    assert await log_in(alice) == "allow"
    used = await broker.logins_used(names)
    assert used[alice.username] > used[device.username]  # the latest log-in is the highest
    await broker.put_login(replace(device, password=new_password()))  # not used with it yet
    assert list(await broker.logins_used(names)) == [alice.username]
