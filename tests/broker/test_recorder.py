"""The recorder inside the real backend: device traffic through the managed Mosquitto ends up in
/api/history and in the device's status, and nothing acknowledged is lost across a restart."""

from __future__ import annotations

import asyncio
import json
import logging
import threading

import pytest
from sqlalchemy import select, update

from pooldesk_server.broker.logins import recorder_login
from pooldesk_server.db.models import Device, Event, User
from pooldesk_server.recorder.messages import interpret
from pooldesk_server.recorder.recorder import Recorder
from pooldesk_server.recorder.service import run_recorder
from tests.broker.app_support import app_settings, probe_for
from tests.broker.probe import Probe
from tests.support.waiting import assert_nothing_arrives, wait_until

PREFIX = "users/alice/devices/esp-a00001"


async def _device(backend) -> tuple[dict[str, str], Probe]:
    auth = await backend.account("alice", "ESP-A00001")
    answer = await backend.http.post("/api/devices/ESP-A00001/credentials", headers=auth)
    assert answer.status_code == 200, answer.text
    device = probe_for(answer.json())
    assert await device.connect(will=(f"{PREFIX}/status", b"offline", True)) == 0
    return auth, device


async def _history(backend, auth, **params) -> list[dict]:
    answer = await backend.http.get(
        "/api/history", headers=auth, params={"deviceId": "ESP-A00001", "limit": 500, **params}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["events"]


async def test_the_backends_mqtt_clients_run_on_its_event_loop(backend):
    """The recorder and the broker admin connection are up with no paho network thread: one
    loop drives them (pooldesk_server/broker/paho_loop.py), so a callback cannot race it."""
    assert backend.extension.recorder is not None
    assert backend.extension.recorder.connected
    paho_threads = [t.name for t in threading.enumerate() if t.name.startswith("paho-mqtt")]
    assert paho_threads == []


async def test_device_traffic_becomes_history_and_status(backend):
    assert backend.extension.recorder is not None
    auth, device = await _device(backend)
    try:
        published = [
            ("status", "online"),
            (
                "pump/state",
                json.dumps(
                    {
                        "on": True,
                        "mode": "manual",
                        "until": None,
                        "cmd_id": "c1",
                        "ts": "2026-11-27T14:00:00Z",
                    }
                ),
            ),
            ("telemetry", json.dumps({"water_c": 26.5, "ts": "2026-11-27T14:00:01Z"})),
            ("alert/freeze", json.dumps({"severity": "warning", "ts": "2026-11-27T14:00:02Z"})),
            ("alert/freeze", ""),
            ("event", json.dumps({"type": "boot", "ts": "2026-11-27T14:00:03Z"})),
        ]
        for topic, payload in published:
            assert await device.publish(f"{PREFIX}/{topic}", payload) == 0

        async def all_stored() -> bool:
            return len(await _history(backend, auth)) == len(published)

        await wait_until(all_stored)
        events = await _history(backend, auth)
        by_type = {}
        for event in events:
            by_type.setdefault(event["type"], []).append(event)
        assert by_type["state"][0]["data"]["cmd_id"] == "c1"
        assert by_type["state"][0]["ts"].startswith("2026-11-27T14:00:00")
        assert by_type["telemetry"][0]["data"]["water_c"] == 26.5
        assert {"id": "freeze", "cleared": True} in [e["data"] for e in by_type["alert"]]
        devices = (await backend.http.get("/api/devices", headers=auth)).json()["devices"]
        assert devices[0]["status"] == "online"
        assert devices[0]["lastSeen"]

        device.drop()  # the will says offline

        async def offline() -> bool:
            listed = (await backend.http.get("/api/devices", headers=auth)).json()["devices"]
            return listed[0]["status"] == "offline"

        await wait_until(offline)
    finally:
        device.close()


async def test_acknowledged_messages_survive_a_recorder_and_broker_restart(backend):
    auth, device = await _device(backend)
    extension = backend.extension
    first = extension.recorder
    await first.stop()  # the recorder is away; its persistent session collects messages
    try:
        for i in range(50):
            payload = json.dumps({"water_c": 20 + i / 10, "seq": i})
            assert await device.publish(f"{PREFIX}/telemetry", payload) == 0  # acknowledged
        device.close()
        await backend.broker._pause()  # a clean broker restart in between
        await backend.broker._resume()
        second = Recorder(extension.state.ctx.db, "127.0.0.1", backend.broker.port, first.login)
        await second.start()
        extension.state.recorder = second  # stopped by the extension at the end

        async def all_there() -> bool:
            return len(await _history(backend, auth, type="telemetry")) == 50

        await wait_until(all_there, within=10)
        seqs = sorted(e["data"]["seq"] for e in await _history(backend, auth, type="telemetry"))
        assert seqs == list(range(50))
    finally:
        device.close()


@pytest.mark.parametrize("cut", ["waiting", "acknowledged while disconnected"])
async def test_messages_sent_again_after_a_lost_connection_are_stored_once(backend, cut):
    """The broker restarts while the recorder holds messages it has not acknowledged: they
    are still waiting in its inbox, or stored and acknowledged after the connection was lost
    (paho drops that acknowledgement). The broker sends them again (same packet ids, DUP) on
    the recorder's new connection; each is stored once, and all are acknowledged in the end."""
    auth, device = await _device(backend)
    extension = backend.extension
    first = extension.recorder
    await first.stop()
    try:
        second = Recorder(
            extension.state.ctx.db,
            "127.0.0.1",
            backend.broker.port,
            first.login,
            batch_wait_s=3.0,  # a batch gathers for 3 s: the broker restarts meanwhile
        )
        await second.start()
        extension.state.recorder = second  # stopped by the extension at the end
        for i in range(20):
            assert await device.publish(f"{PREFIX}/telemetry", json.dumps({"seq": i})) == 0
        await wait_until(lambda: second.backlog()[0] == 20, what="20 messages waiting")
        device.close()
        await backend.broker._pause()
        if cut == "acknowledged while disconnected":
            await wait_until(lambda: second.stored == 20, what="the batch stored while cut off")
        await backend.broker._resume()
        await wait_until(lambda: second.connected, what="the recorder back")

        async def telemetry() -> list[int]:
            return [e["data"]["seq"] for e in await _history(backend, auth, type="telemetry")]

        async def all_there() -> bool:
            return len(await telemetry()) >= 20

        await wait_until(all_there, within=15)

        async def duplicated() -> bool:
            return len(await telemetry()) > 20

        # A copy sent again would be stored when its batch has gathered (3 s).
        await assert_nothing_arrives(duplicated, within=4.0, what="a message stored twice")
        assert sorted(await telemetry()) == list(range(20))
        assert second.backlog()[0] == 0
        assert second.copies_ignored == 20  # the broker did send them all again
    finally:
        device.close()


async def test_only_device_reports_are_kept():
    assert interpret(f"{PREFIX}/pump/set", b'{"cmd_id": "x"}') is None
    assert interpret(f"{PREFIX}/schedule/set", b"{}") is None
    assert interpret("users/alice/devices/not-a-device/status", b"online") is None
    status = interpret(f"{PREFIX}/status", b"offline")
    assert status.device_id == "ESP-A00001"
    assert status.status == "offline"
    # Clearing a retained topic (as unbinding does) is not a report of the device...
    for rest in ("status", "pump/state", "schedule", "telemetry", "event"):
        assert interpret(f"{PREFIX}/{rest}", b"") is None
    # ...except for an alert, where the empty payload means "cleared".
    assert interpret(f"{PREFIX}/alert/frost", b"").data == {"id": "frost", "cleared": True}
    garbage = interpret(f"{PREFIX}/telemetry", b"\xff not json")
    assert garbage.data["raw"]
    assert garbage.ts is None
    assert recorder_login("b").rights == recorder_login("a").rights


async def test_a_second_recorder_process_shares_the_load_without_duplicates(
    backend, backend_dir, caplog
):
    auth, device = await _device(backend)
    caplog.set_level(logging.INFO, logger="pooldesk_server.recorder")
    stop = asyncio.Event()
    standalone = asyncio.create_task(run_recorder(app_settings(backend_dir), stop))
    try:

        def subscribed() -> bool:  # logged once the broker acknowledged its subscription
            return any(
                "recording device traffic" in r.getMessage()
                and "recorder-standalone" in r.getMessage()
                for r in caplog.records
            )

        await wait_until(subscribed, what="the standalone recorder's subscription")
        for i in range(40):
            assert await device.publish(f"{PREFIX}/telemetry", json.dumps({"seq": i})) == 0

        async def all_there() -> bool:
            return len(await _history(backend, auth, type="telemetry")) >= 40

        await wait_until(all_there, within=10)

        async def duplicates() -> bool:
            return len(await _history(backend, auth, type="telemetry")) > 40

        # A second copy would be a redelivery arriving late: watch a window for one.
        await assert_nothing_arrives(duplicates, within=0.5, what="a duplicate row")
        seqs = sorted(e["data"]["seq"] for e in await _history(backend, auth, type="telemetry"))
        assert seqs == list(range(40))  # each stored once, by one of the two
        assert 0 < backend.extension.recorder.stored < 40  # the in-process one took a share
    finally:
        stop.set()
        await standalone
        device.close()


async def test_a_backlog_larger_than_a_batch_is_stored_once_and_in_full(backend):
    """More messages wait than one batch holds: every batch is committed and acknowledged, the
    leftovers are taken without waiting for new traffic, and nothing is stored twice."""
    auth, device = await _device(backend)
    extension = backend.extension
    first = extension.recorder
    await first.stop()
    try:
        for i in range(100):
            assert await device.publish(f"{PREFIX}/telemetry", json.dumps({"seq": i})) == 0
        assert await device.publish(f"{PREFIX}/status", "online") == 0
        second = Recorder(
            extension.state.ctx.db, "127.0.0.1", backend.broker.port, first.login, batch_size=7
        )
        await second.start()
        extension.state.recorder = second  # stopped by the extension at the end

        async def all_there() -> bool:
            return second.stored == 101

        await wait_until(all_there, within=10)
        seqs = sorted(e["data"]["seq"] for e in await _history(backend, auth, type="telemetry"))
        assert seqs == list(range(100))
        devices = (await backend.http.get("/api/devices", headers=auth)).json()["devices"]
        assert devices[0]["status"] == "online"
        assert devices[0]["lastSeen"]
    finally:
        device.close()


async def test_a_device_unbound_and_bound_again_is_recorded_under_its_new_row(backend):
    """The recorder caches device rows; after an unbind and a new bind of the same id, its
    cached row is gone (foreign key) and the next batch finds the new one."""
    auth, device = await _device(backend)
    try:
        assert await device.publish(f"{PREFIX}/telemetry", json.dumps({"seq": "before"})) == 0

        async def first_stored() -> bool:
            return len(await _history(backend, auth, type="telemetry")) == 1

        await wait_until(first_stored)  # the recorder now caches the device's row
        device.close()
        removed = await backend.http.delete("/api/devices/ESP-A00001", headers=auth)
        assert removed.status_code in (200, 204), removed.text
        added = await backend.http.post(
            "/api/devices", json={"deviceId": "ESP-A00001"}, headers=auth
        )
        assert added.status_code in (200, 201), added.text
        auth, device = await backend.sign_in("alice"), None
        answer = await backend.http.post("/api/devices/ESP-A00001/credentials", headers=auth)
        assert answer.status_code == 200, answer.text
        device = probe_for(answer.json())
        assert await device.connect() == 0
        assert await device.publish(f"{PREFIX}/telemetry", json.dumps({"seq": "after"})) == 0

        async def second_stored() -> bool:
            events = await _history(backend, auth, type="telemetry")
            return [e["data"]["seq"] for e in events] == ["after"]  # the old row's went with it

        await wait_until(second_stored)
    finally:
        if device is not None:
            device.close()


async def test_a_status_on_the_prefix_a_device_left_does_not_change_it(backend):
    """A hand-over moved the device to another prefix (committed; the recorder has not been
    told yet). An `offline` then said on its old prefix (the old connection closing) is
    history, not the state of the device, which is online on its new prefix."""
    _auth, device = await _device(backend)
    try:
        assert await device.publish(f"{PREFIX}/status", "online", retain=True) == 0
        await backend.account("ben", "ESP-B00001")
        ctx = backend.extension.state.ctx

        async def status() -> str | None:
            async with ctx.db.read() as db:
                return await db.scalar(
                    select(Device.status).where(Device.device_id == "ESP-A00001")
                )

        await wait_until(lambda: _is_online(status), what="the device online")
        async with ctx.db.write() as db:  # what the hand-over's transaction does to the row
            ben = await db.scalar(select(User.id).where(User.username == "ben"))
            await db.execute(
                update(Device)
                .where(Device.device_id == "ESP-A00001")
                .values(user_id=ben, topic_prefix="users/ben/devices/esp-a00001")
            )
        assert await device.publish(f"{PREFIX}/status", "offline", retain=True) == 0

        async def stored() -> bool:
            async with ctx.db.read() as db:
                rows = await db.scalars(select(Event.data).where(Event.type == "status"))
                return any("offline" in (r or "") for r in rows)

        await wait_until(stored, what="the old prefix's offline recorded as history")
        assert await status() == "online"
    finally:
        device.close()


async def _is_online(status) -> bool:
    return await status() == "online"
