"""A device's login rotated while it is online (the user runs "Add device" again on a set-up
controller): the old login keeps working until the device has logged in with the new one, no
`offline` is said for a device that never stopped working, and a late job clearing a removed
device's retained messages spares the device added again under the same prefix."""

from __future__ import annotations

from sqlalchemy import select

from pooldesk_server.db.models import BrokerJob, Device
from tests.broker.app_support import probe_for
from tests.broker.probe import NOT_AUTHORIZED, Probe
from tests.support.waiting import wait_until

DEVICE = "ESP-A00001"
PREFIX = "users/alice/devices/esp-a00001"
STATUS = f"{PREFIX}/status"


async def _device_credentials(backend, auth) -> dict:
    answer = await backend.http.post(f"/api/devices/{DEVICE}/credentials", headers=auth)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _device_status(backend) -> str | None:
    async with backend.extension.state.ctx.db.read() as db:
        return await db.scalar(select(Device.status).where(Device.device_id == DEVICE))


async def _online(creds: dict) -> Probe:
    """The controller connected with these credentials, its will set, `online` published."""
    device = probe_for(creds)
    assert await device.connect(will=(STATUS, b"offline", True)) == 0
    assert await device.publish(STATUS, "online", retain=True) == 0
    return device


async def _login_works(creds: dict) -> bool:
    client = probe_for(creds)
    try:
        code = await client.connect()
        assert code in (0, NOT_AUTHORIZED), code
        return code == 0
    finally:
        client.close()


async def _retained_status(backend, auth) -> bytes:
    """The retained `status` a dashboard that connects now is told."""
    watcher = probe_for(await backend.mqtt_credentials(auth))
    try:
        assert await watcher.connect() == 0
        assert await watcher.subscribe(STATUS) == [1]
        (retained,) = await watcher.wait_for(STATUS)
        return retained.payload
    finally:
        watcher.close()


async def _device_rows(backend) -> dict[str, str]:
    return {n: s for n, s in (await backend.rows()).items() if n.startswith("dev-")}


async def _background_done(backend) -> None:
    """Wait for the broker layer's background work (an `offline` being published) to end."""
    await wait_until(lambda: not backend.extension.state.background, 10, "background work")


async def test_a_device_keeps_its_login_until_it_has_logged_in_with_the_new_one(backend):
    """Fetching new credentials for an online controller (the wizard run again) must not cut
    it: the controller tries them, the Wi-Fi password was wrong, it goes back to its stored
    settings (the old login) and the user cancels. It must stay online for good."""
    auth = await backend.account("alice", DEVICE)
    old = await _device_credentials(backend, auth)
    device = await _online(old)
    dashboard = probe_for(await backend.mqtt_credentials(auth))
    try:
        assert await dashboard.connect() == 0
        assert await dashboard.subscribe(f"{PREFIX}/#") == [1]
        await wait_until(lambda: _device_status(backend), 10, "the recorder")
        await wait_until(lambda: _is(backend, "online"), 10, "the device online")

        new = await _device_credentials(backend, auth)  # "Add device" again: never used
        assert new["mqttUser"] != old["mqttUser"]
        assert await backend.extension.reconcile_once() == 0
        await _background_done(backend)
        assert not device.disconnected.is_set()  # never cut
        assert set(await _device_rows(backend)) == {old["mqttUser"], new["mqttUser"]}
        # Its trial of the new settings failed: it goes back to its stored login, which works.
        device.close()
        device = await _online(old)
        await dashboard.wait_for(STATUS, count=2)
        assert await backend.extension.reconcile_once() == 0
        await _background_done(backend)
        assert not device.disconnected.is_set()
        assert await _device_status(backend) == "online"
        assert [m.payload for m in dashboard.got(STATUS)] == [b"online", b"online"]

        # It connects with the new login once (Wi-Fi joined, broker reached), but the set-up
        # is cancelled before it was seen online: restored, it is back on its old login. Its
        # latest log-in decides: the old one stays.
        device.close()
        (await _online(new)).close()
        device = await _online(old)
        assert await backend.extension.reconcile_once() == 0
        assert set(await _device_rows(backend)) == {old["mqttUser"], new["mqttUser"]}
        assert not device.disconnected.is_set()

        # Later the controller gets the new login for good and connects with it: now the old
        # one goes, and the device stays online.
        device.close()
        device = await _online(new)
        assert await backend.extension.reconcile_once() == 0
        assert await _device_rows(backend) == {new["mqttUser"]: "synced"}
        assert not await _login_works(old)
        assert old["mqttUser"] not in await backend.broker.list_logins()
        await _background_done(backend)
        assert not device.disconnected.is_set()
        await wait_until(lambda: _is(backend, "online"), 10, "the device online")
    finally:
        device.close()
        dashboard.close()


async def _is(backend, status: str) -> bool:
    return await _device_status(backend) == status


async def test_a_rotated_device_is_never_said_offline_after_it_came_back_online(backend):
    """The controller takes its new login at once (a successful re-provisioning): neither the
    dashboard nor the database ever hear `offline` from the server for it."""
    auth = await backend.account("alice", DEVICE)
    old = await _device_credentials(backend, auth)
    dashboard = probe_for(await backend.mqtt_credentials(auth))
    device = await _online(old)
    try:
        assert await dashboard.connect() == 0
        assert await dashboard.subscribe(STATUS) == [1]
        await dashboard.wait_for(STATUS)
        await wait_until(lambda: _is(backend, "online"), 10, "the device online")

        new = await _device_credentials(backend, auth)
        device.client.disconnect()  # the controller restarts its link with the new settings
        await device.wait_disconnected()
        device.close()
        device = await _online(new)
        await dashboard.wait_for(STATUS, count=2)
        assert await backend.extension.reconcile_once() == 0
        await _background_done(backend)
        assert await _device_rows(backend) == {new["mqttUser"]: "synced"}

        # A fresh subscriber gets the retained status: `online`, and nobody heard `offline`.
        assert await _retained_status(backend, await backend.sign_in("alice")) == b"online"
        assert [m.payload for m in dashboard.got(STATUS)] == [b"online", b"online"]
        await wait_until(lambda: _is(backend, "online"), 10, "the device online")
        assert not device.disconnected.is_set()
    finally:
        device.close()
        dashboard.close()


async def test_a_late_clearing_job_spares_a_device_added_again(backend):
    """Removed while the broker does not answer, the device leaves a job to clear its retained
    messages; added again under the same prefix before the job ran, its new state stays."""
    auth = await backend.account("alice", DEVICE)
    creds = await _device_credentials(backend, auth)
    device = await _online(creds)
    device.close()
    await backend.broker._pause()
    try:
        removed = await backend.http.delete(f"/api/devices/{DEVICE}", headers=auth)
        assert removed.status_code == 200, removed.text

        async def job_waits() -> bool:  # its first try failed: it waits for its next turn
            async with backend.extension.state.ctx.db.read() as db:
                return await db.scalar(select(BrokerJob.attempts)) == 1

        await wait_until(job_waits, 15, "the clearing job's failed first try")
        await _background_done(backend)
    finally:
        await backend.broker._resume()
    async with backend.extension.state.ctx.db.read() as db:
        assert list(await db.scalars(select(BrokerJob.target))) == [PREFIX]

    added = await backend.http.post("/api/devices", headers=auth, json={"deviceId": DEVICE})
    assert added.status_code == 201, added.text
    again = await _online(await _device_credentials(backend, auth))
    again.close()
    backend.extension.state.jobs_due_now = True  # the job's back-off is over
    assert await backend.extension.reconcile_once() == 0

    assert await _retained_status(backend, auth) == b"online"
    async with backend.extension.state.ctx.db.read() as db:
        assert list(await db.scalars(select(BrokerJob.target))) == []


async def test_a_newer_login_never_used_does_not_keep_the_older_ones_alive(backend):
    """Logins A then B, the controller on B; then "Add device" is run again and abandoned (C,
    never used). A is replaced for good: it goes, so an old credential (an installer's from an
    earlier set-up) does not stay valid for as long as set-ups are abandoned."""
    auth = await backend.account("alice", DEVICE)
    first = await _device_credentials(backend, auth)
    (await _online(first)).close()
    second = await _device_credentials(backend, auth)
    device = await _online(second)
    try:
        third = await _device_credentials(backend, auth)  # abandoned: never used
        assert await backend.extension.reconcile_once() == 0
        assert set(await _device_rows(backend)) == {second["mqttUser"], third["mqttUser"]}
        assert not await _login_works(first)
        assert not device.disconnected.is_set()
    finally:
        device.close()
