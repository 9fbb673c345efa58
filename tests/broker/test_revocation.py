"""Review findings #2, #3 and #11: logins die with their session however it ends, bookkeeping races
never delete a freshly issued login, and retained messages do not outlive a device or account."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import delete, select, update

from pooldesk_server.broker.keyed_locks import KeyedLocks
from pooldesk_server.broker.logins import dashboard_login
from pooldesk_server.db.models import MqttLogin, Session
from pooldesk_server.db.types import utcnow
from tests.broker.app_support import PASSWORD, probe_for
from tests.broker.probe import NOT_AUTHORIZED, Probe
from tests.support.waiting import assert_nothing_arrives, wait_until

PREFIX = "users/alice/devices/esp-a00001"


async def _session_row_of(backend, mqtt_user: str) -> str:
    async with backend.extension.state.ctx.db.read() as db:
        return await db.scalar(select(MqttLogin.session_id).where(MqttLogin.mqtt_user == mqtt_user))


async def _refused(creds: dict) -> bool:
    client = probe_for(creds)
    try:
        return await client.connect() == NOT_AUTHORIZED
    finally:
        client.close()


async def test_reconcile_removes_logins_of_sessions_purged_without_an_event(backend):
    auth = await backend.account("alice", "ESP-A00001")
    creds = await backend.mqtt_credentials(auth)
    session_id = await _session_row_of(backend, creds["mqttUser"])
    # The session expires and is purged straight in the database: no SessionsEnded is published.
    async with backend.extension.state.ctx.db.write() as db:
        await db.execute(delete(Session).where(Session.id == session_id))
    assert not await _refused(creds)  # still works until reconciliation
    assert await backend.extension.reconcile_once() == 0
    assert await _refused(creds)
    assert await backend.rows() == {}


async def test_reconcile_removes_logins_of_expired_or_revoked_sessions(backend):
    expired_auth = await backend.account("alice", "ESP-A00001")
    expired = await backend.mqtt_credentials(expired_auth)
    revoked = await backend.mqtt_credentials(await backend.sign_in("alice"))
    kept = await backend.mqtt_credentials(await backend.sign_in("alice"))
    past = utcnow() - timedelta(minutes=1)
    async with backend.extension.state.ctx.db.write() as db:
        for creds, values in ((expired, {"expires_at": past}), (revoked, {"revoked_at": past})):
            session_id = await db.scalar(
                select(MqttLogin.session_id).where(MqttLogin.mqtt_user == creds["mqttUser"])
            )
            await db.execute(update(Session).where(Session.id == session_id).values(**values))
    assert await backend.extension.reconcile_once() == 0
    assert await _refused(expired)
    assert await _refused(revoked)
    assert not await _refused(kept)
    assert await backend.rows() == {kept["mqttUser"]: "synced"}


async def test_a_logout_committed_during_issuing_leaves_no_working_login(backend):
    auth = await backend.account("alice", "ESP-A00001")
    first = await backend.mqtt_credentials(auth)
    session_id = await _session_row_of(backend, first["mqttUser"])
    broker = backend.broker
    real_put = broker.put_login

    async def put_then_logout_commits(login):
        await real_put(login)
        async with backend.extension.state.ctx.db.write() as db:  # its event comes later, or never
            await db.execute(
                update(Session).where(Session.id == session_id).values(revoked_at=utcnow())
            )

    broker.put_login = put_then_logout_commits
    try:
        answer = await backend.http.get("/api/auth/mqtt-credentials", headers=auth)
    finally:
        broker.put_login = real_put
    assert answer.status_code == 401
    assert first["mqttUser"] not in await broker.list_logins()
    assert await _refused(first)
    assert await backend.rows() == {}


async def test_a_stale_deletion_never_removes_a_login_issued_again(backend):
    auth = await backend.account("alice", "ESP-A00001")
    await backend.broker._pause()
    try:
        down = await backend.http.post("/api/devices/ESP-A00001/credentials", headers=auth)
        assert down.status_code == 503
    finally:
        await backend.broker._resume()
    (failed,) = (await backend.rows()).items()
    assert failed[1] == "pending_delete"
    # A reconcile pass collected the name; meanwhile the device gets credentials again.
    again = await backend.http.post("/api/devices/ESP-A00001/credentials", headers=auth)
    assert again.status_code == 200
    assert await backend.extension.revoker.delete_now(backend.extension.state.ctx, failed[0])
    assert not await _refused(again.json())
    assert await backend.rows() == {again.json()["mqttUser"]: "synced"}


async def test_keyed_locks_stay_exclusive_for_waiters_and_newcomers():
    locks, inside, overlaps = KeyedLocks(), [], []
    release = {name: asyncio.Event() for name in ("first", "waiter", "newcomer")}

    async def work(name: str) -> None:
        async with locks.hold("dev-x"):
            if inside:
                overlaps.append((inside[0], name))
            inside.append(name)
            await release[name].wait()
            inside.remove(name)

    first = asyncio.create_task(work("first"))
    await wait_until(lambda: inside == ["first"], what="the first holder")
    waiter = asyncio.create_task(work("waiter"))
    await asyncio.sleep(0)  # one loop turn, not a delay: the waiter's task queues on the lock
    release["first"].set()
    await first
    await wait_until(lambda: inside == ["waiter"], what="the waiter takes over")
    newcomer = asyncio.create_task(work("newcomer"))  # arrives while the waiter holds the lock
    # Exclusion is an absence: no event says "the newcomer stayed out", so watch a window.
    await assert_nothing_arrives(lambda: "newcomer" in inside, within=0.3, what="the newcomer")
    release["waiter"].set()
    await wait_until(lambda: inside == ["newcomer"], what="the newcomer's turn")
    release["newcomer"].set()
    await asyncio.gather(waiter, newcomer)
    assert overlaps == []
    assert len(locks) == 0  # nothing left behind


async def _retained_under(backend, topic_filter: str) -> list[str]:
    """Topics with a retained message, as a fresh subscriber with read rights sees them."""
    watcher = dashboard_login("alice", "watcher00")
    await backend.broker.put_login(watcher)
    probe = Probe.of(backend.broker.port, watcher)
    try:
        assert await probe.connect() == 0
        assert await probe.subscribe(topic_filter) == [1]
        # The broker sends the retained messages of a subscription before anything published
        # after it: once a live sentinel has arrived, every retained message has too.
        sentinel = f"{PREFIX}/pump/set"
        assert await probe.publish(sentinel, b"sentinel") == 0
        await wait_until(
            lambda: any(m.payload == b"sentinel" for m in probe.got(sentinel)), 5, "the sentinel"
        )
        return sorted(m.topic for m in probe.messages if m.retain)
    finally:
        probe.close()
        await backend.broker.delete_login(watcher.username)


async def _publish_retained_state(backend, auth) -> None:
    answer = await backend.http.post("/api/devices/ESP-A00001/credentials", headers=auth)
    device = probe_for(answer.json())
    dashboard = probe_for(await backend.mqtt_credentials(auth))
    try:
        assert await device.connect() == 0
        assert await dashboard.connect() == 0
        for topic in ("status", "pump/state", "schedule", "alert/freeze", "alert/ph_low"):
            assert await device.publish(f"{PREFIX}/{topic}", b'{"x": 1}', retain=True) == 0
        assert await dashboard.publish(f"{PREFIX}/pump/set", b'{"on": true}', retain=True) == 0
    finally:
        device.close()
        dashboard.close()


async def test_unbinding_a_device_clears_its_retained_messages(backend):
    auth = await backend.account("alice", "ESP-A00001")
    await _publish_retained_state(backend, auth)
    assert len(await _retained_under(backend, f"{PREFIX}/#")) == 6  # what a next owner would get
    removed = await backend.http.delete("/api/devices/ESP-A00001", headers=auth)
    assert removed.status_code == 200, removed.text
    assert await _retained_under(backend, f"{PREFIX}/#") == []
    assert not any(n.startswith("svc-") for n in await backend.broker.list_logins())


async def test_deleting_an_account_clears_its_retained_messages(backend):
    auth = await backend.account("alice", "ESP-A00001")
    await _publish_retained_state(backend, auth)
    assert len(await _retained_under(backend, "users/alice/#")) == 6
    gone = await backend.http.request(
        "DELETE", "/api/account", headers=auth, json={"password": PASSWORD}
    )
    assert gone.status_code == 200, gone.text
    assert await _retained_under(backend, "users/alice/#") == []
    assert await backend.broker.list_logins() == {"recorder-main"}
