"""The broker layer wired into the real backend app: credentials over HTTP, enforced by a real
managed Mosquitto, removed when sessions, devices and accounts end, consistent when it was down."""

from __future__ import annotations

import asyncio
import shutil

import pytest

from pooldesk_server.broker.base import BrokerLogin
from pooldesk_server.broker.logins import device_login
from pooldesk_server.broker.mosquitto import BrokerConfigError
from pooldesk_server.broker.service.config import build_backend
from pooldesk_server.broker.service.extension import BrokerExtension
from pooldesk_server.broker.service.sync import run_sync
from tests.broker.app_support import PASSWORD, app_settings, open_backend, probe_for
from tests.broker.probe import NOT_AUTHORIZED, REFUSED_SUBSCRIBE


async def test_session_credentials_work_rotate_and_end_with_logout(backend):
    auth = await backend.account("alice", "ESP-A00001")
    creds = await backend.mqtt_credentials(auth)
    assert creds["ok"] is True
    assert creds["topicPrefix"] == "users/alice"
    assert creds["brokerUrl"] == backend.broker.broker_url
    assert len(creds["mqttPassword"]) >= 32
    app = probe_for(creds)
    try:
        assert await app.connect() == 0
        assert await app.subscribe("users/alice/#") == [1]
        assert (await app.subscribe("users/bob/#"))[0] in REFUSED_SUBSCRIBE

        again = await backend.mqtt_credentials(auth)  # rotation: a new login, the same client id
        assert again["mqttUser"] != creds["mqttUser"]
        assert again["clientId"] == creds["clientId"]
        assert again["mqttPassword"] != creds["mqttPassword"]
        assert await app.wait_disconnected()
        stale = probe_for(creds)
        assert await stale.connect() == NOT_AUTHORIZED
        stale.close()
        current = probe_for(again)
        assert await current.connect() == 0
        assert await backend.rows() == {again["mqttUser"]: "synced"}
        assert creds["mqttUser"] not in await backend.broker.list_logins()

        assert (await backend.http.post("/api/auth/logout", headers=auth)).status_code == 200
        assert await current.wait_disconnected(2.0)
        assert await backend.rows() == {}
        assert again["mqttUser"] not in await backend.broker.list_logins()
        current.close()
    finally:
        app.close()


async def test_device_credentials_carry_exact_rights_and_end_with_unbinding(backend):
    alice = await backend.account("alice", "ESP-A00001")
    bob = await backend.account("bob", "ESP-B00001")
    assert (
        await backend.http.post("/api/devices/ESP-A00001/credentials", headers=bob)
    ).status_code == 404
    answer = await backend.http.post("/api/devices/esp-a00001/credentials", headers=alice)
    assert answer.status_code == 200, answer.text
    device = answer.json()
    assert device["topicPrefix"] == "users/alice/devices/esp-a00001"
    assert device["clientId"] == "esp-a00001"
    assert device["apiKey"]
    assert device["caCert"] is None

    dashboard = probe_for(await backend.mqtt_credentials(alice))
    thief = probe_for(await backend.mqtt_credentials(bob))
    controller = probe_for(device)
    try:
        for p in (dashboard, thief, controller):
            assert await p.connect() == 0
        assert await dashboard.subscribe("users/alice/#") == [1]
        assert (await thief.subscribe("users/alice/#"))[0] in REFUSED_SUBSCRIBE
        assert await controller.publish(f"{device['topicPrefix']}/status", "online") == 0
        await dashboard.wait_for(f"{device['topicPrefix']}/status")
        assert await thief.publish(f"{device['topicPrefix']}/pump/set", "{}") == NOT_AUTHORIZED

        removed = await backend.http.delete("/api/devices/ESP-A00001", headers=alice)
        assert removed.status_code == 200, removed.text
        assert await controller.wait_disconnected(2.0)
        assert device["mqttUser"] not in await backend.broker.list_logins()
        assert not dashboard.disconnected.is_set()
    finally:
        for p in (dashboard, thief, controller):
            p.close()


async def test_a_broker_down_while_issuing_and_revoking_ends_consistent(backend):
    auth = await backend.account("alice", "ESP-A00001")
    creds = await backend.mqtt_credentials(auth)
    await backend.broker._pause()  # the broker is down (and not restarted by the supervisor)
    try:
        refused = await backend.http.get("/api/auth/mqtt-credentials", headers=auth)
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "broker_unavailable"
        assert refused.headers["retry-after"]
        # The working login stays; only the new one, never handed out, is to be removed.
        rows = await backend.rows()
        assert rows.pop(creds["mqttUser"]) == "synced"
        assert list(rows.values()) == ["pending_delete"]
        assert (await backend.http.post("/api/auth/logout", headers=auth)).status_code == 200
        rows = await backend.rows()
        assert rows.pop(creds["mqttUser"]) == "pending_delete"
        assert list(rows.values()) == ["pending_delete"]
    finally:
        await backend.broker._resume()
    # Until reconciliation, the old login is still at the broker: the loop removes it.
    assert await backend.extension.reconcile_once() == 0
    assert await backend.rows() == {}
    assert creds["mqttUser"] not in await backend.broker.list_logins()
    old = probe_for(creds)
    try:
        assert await old.connect() == NOT_AUTHORIZED
    finally:
        old.close()


async def test_account_deletion_removes_every_login(backend):
    auth = await backend.account("alice", "ESP-A00001")
    await backend.mqtt_credentials(auth)
    assert (
        await backend.http.post("/api/devices/ESP-A00001/credentials", headers=auth)
    ).status_code == 200
    assert len(await backend.broker.list_logins()) == 3  # with the recorder's
    gone = await backend.http.request(
        "DELETE", "/api/account", headers=auth, json={"password": PASSWORD}
    )
    assert gone.status_code == 200, gone.text
    assert await backend.broker.list_logins() == {"recorder-main"}
    assert await backend.rows() == {}


async def test_sync_restores_lost_logins_and_leaves_foreign_ones_alone(backend):
    auth = await backend.account("alice", "ESP-A00001")
    creds = await backend.mqtt_credentials(auth)
    stray = device_login("mallory", "ESP-0BAD00")
    foreign = BrokerLogin("grafana", "grafana-password-123", "grafana", ())  # not PoolDesk's
    # The store is lost; a stray PoolDesk-named login and another tool's login appear.
    await backend.broker.import_logins([stray, foreign], replace_all=True)
    assert creds["mqttUser"] not in await backend.broker.list_logins()
    report = await backend.extension.sync()
    assert report.deleted_at_broker == (stray.username,)
    assert report.restored == (creds["mqttUser"],)
    assert report.forgotten == ()
    assert await backend.broker.list_logins() == {"recorder-main", "grafana", creds["mqttUser"]}
    assert await backend.rows() == {creds["mqttUser"]: "synced"}
    app = probe_for(creds)  # the app's old password works again, with its rights
    try:
        assert await app.connect() == 0
        assert await app.subscribe("users/alice/#") == [1]
        assert (await app.subscribe("users/bob/#"))[0] in REFUSED_SUBSCRIBE
    finally:
        app.close()


async def test_missing_mosquitto_is_explained_by_the_api(backend_dir):
    settings = app_settings(backend_dir)
    missing = build_backend(settings, env={"POOLDESK_MOSQUITTO_BIN": "/nonexistent/mosquitto"})
    async for backend in open_backend(backend_dir, BrokerExtension(settings, missing)):
        auth = await backend.account("alice", "ESP-A00001")
        answer = await backend.http.get("/api/auth/mqtt-credentials", headers=auth)
        assert answer.status_code == 503
        message = answer.json()["error"]["message"]
        assert "Mosquitto is not installed" in message
        assert "sudo apt-get install mosquitto" in message
        assert await backend.rows() == {}
        health = await backend.http.get("/healthz")
        assert health.status_code == 503  # serving, but not ready: it says why
        assert "Mosquitto is not installed" in health.json()["components"]["broker"]["detail"]


async def test_openapi_lists_the_credential_endpoints(backend):
    document = (await backend.http.get("/openapi.json")).json()
    assert "get" in document["paths"]["/api/auth/mqtt-credentials"]
    assert "post" in document["paths"]["/api/devices/{device_id}/credentials"]
    unauth = await backend.http.get("/api/auth/mqtt-credentials")
    assert unauth.status_code == 401
    assert unauth.json()["ok"] is False
    await asyncio.sleep(0)


async def test_broker_sync_command_rebuilds_after_the_store_is_lost(backend_dir):
    settings = app_settings(backend_dir)
    extension = BrokerExtension(settings, build_backend(settings, env={}))
    async for backend in open_backend(backend_dir, extension):
        auth = await backend.account("alice", "ESP-A00001")
        creds = await backend.mqtt_credentials(auth)
        issued = await backend.http.post("/api/devices/ESP-A00001/credentials", headers=auth)
        assert issued.status_code == 200
        device = issued.json()
        with pytest.raises(BrokerConfigError, match="stop the server first"):
            await run_sync(settings)  # the serving backend owns the managed broker
    # Server stopped; the broker's store is lost; `pooldesk-backend broker sync` runs.
    store = backend_dir / "broker" / "store"  # dynamic security's store and the login journal
    await asyncio.to_thread(shutil.rmtree, store)
    await asyncio.to_thread((backend_dir / "broker" / "admin-password").unlink)
    report = await run_sync(settings)
    assert set(report.restored) == {creds["mqttUser"], device["mqttUser"]}
    assert report.forgotten == ()
    assert report.deleted_at_broker == ()
    assert report.still_pending == 0
    assert "restored 2 login(s)" in report.as_text()
    rebuilt = BrokerExtension(settings, build_backend(settings, env={}))
    async for backend in open_backend(backend_dir, rebuilt):
        # The device's and the app's old passwords work again on the rebuilt broker.
        for issued in (device, creds):
            client = probe_for({**issued, "brokerUrl": backend.broker.broker_url})
            try:
                assert await client.connect() == 0
            finally:
                client.close()
        assert await backend.rows() == {creds["mqttUser"]: "synced", device["mqttUser"]: "synced"}
