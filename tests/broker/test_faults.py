"""Issue #17: the service under faults on the real managed Mosquitto (paused with SIGSTOP,
killed with SIGKILL): a failed credential re-issue never locks out a working device or session,
a deleted device login says `offline`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from backend.broker.extension import BrokerExtension, build_backend
from backend.broker.managed import ManagedMosquitto
from tests.broker.app_support import Backend, app_settings, open_backend, probe_for

PREFIX = "users/alice/devices/esp-a00001"


@pytest.fixture
async def quick(backend_dir: Path) -> AsyncIterator[Backend]:
    """The backend on a managed Mosquitto whose admin commands give up after 2 s."""
    settings = app_settings(backend_dir)
    managed = build_backend(settings, env={})
    assert isinstance(managed, ManagedMosquitto)
    managed.command_timeout = 2.0
    async for running in open_backend(backend_dir, BrokerExtension(settings, managed)):
        yield running


@contextlib.contextmanager
def paused(broker: ManagedMosquitto) -> Iterator[None]:
    """The broker process frozen (SIGSTOP): connections stay open, nothing is answered."""
    pid = broker.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


async def _connects(creds: dict) -> bool:
    client = probe_for(creds)
    try:
        return await client.connect() == 0
    finally:
        client.close()


async def _device_status(backend: Backend, auth: dict, device_id: str = "ESP-A00001") -> str:
    answer = await backend.http.get("/api/devices", headers=auth)
    assert answer.status_code == 200, answer.text
    (device,) = [d for d in answer.json()["devices"] if d["deviceId"] == device_id]
    return device["status"]


async def _until(predicate, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not await predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_a_failed_device_reissue_on_a_paused_broker_keeps_the_working_login(quick):
    auth = await quick.account("alice", "ESP-A00001")
    first = (await quick.http.post("/api/devices/ESP-A00001/credentials", headers=auth)).json()
    assert await _connects(first)
    with paused(quick.broker):
        failed = await quick.http.post("/api/devices/ESP-A00001/credentials", headers=auth)
    assert failed.status_code == 503, failed.text
    # The broker resumes and works through what it had queued; the reconcile loop runs.
    assert await quick.extension.reconcile_once() == 0
    assert await _connects(first)  # the unit was never locked out
    assert await quick.rows() == {first["mqttUser"]: "synced"}
    assert await quick.broker.list_logins() == {"recorder-main", first["mqttUser"]}


async def test_a_failed_session_reissue_on_a_paused_broker_keeps_the_working_login(quick):
    auth = await quick.account("alice", "ESP-A00001")
    first = await quick.mqtt_credentials(auth)
    with paused(quick.broker):
        failed = await quick.http.get("/api/auth/mqtt-credentials", headers=auth)
    assert failed.status_code == 503
    assert await quick.extension.reconcile_once() == 0
    assert await _connects(first)
    assert await quick.rows() == {first["mqttUser"]: "synced"}
    # Asking again once the broker is back rotates as usual: the old password stops working.
    again = await quick.mqtt_credentials(auth)
    assert await _connects(again) and not await _connects(first)


async def test_a_deleted_device_login_shows_the_device_offline(quick):
    auth = await quick.account("alice", "ESP-A00001")
    first = (await quick.http.post("/api/devices/ESP-A00001/credentials", headers=auth)).json()
    watcher = probe_for(await quick.mqtt_credentials(auth))
    device = probe_for(first)
    try:
        assert await watcher.connect() == 0 and await watcher.subscribe(f"{PREFIX}/status") == [1]
        assert await device.connect(will=(f"{PREFIX}/status", b"offline", True)) == 0
        assert await device.publish(f"{PREFIX}/status", b"online", retain=True) == 0

        async def online() -> bool:
            return await _device_status(quick, auth) == "online"

        await _until(online)
        rotated = await quick.http.post("/api/devices/ESP-A00001/credentials", headers=auth)
        assert rotated.status_code == 200
        assert await device.wait_disconnected()  # cut by the broker, which sends no will then
        assert await _device_status(quick, auth) == "offline"
        received = await watcher.wait_for(f"{PREFIX}/status", 2)
        assert received[-1].payload == b"offline"  # what dashboards see live, too
    finally:
        device.close()
        watcher.close()
