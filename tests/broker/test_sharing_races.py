"""A share change racing a dashboard login's put in another process (`serve --workers N`, or
several `serve` on one database): the broker must end with the rights the database gives.

Two backend apps share one SQLite database and one real managed Mosquitto: the primary runs
the broker, the other worker reaches it as a client, as `serve --workers 2` does. The worker's
put of a dashboard login is held (timing only: it then reaches the real broker unchanged) until
the primary has ended a share and put the narrowed rights, so it lands last. The member's
dashboard then logs in at the real broker and must be refused the device it lost.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

import pytest

from pooldesk_server.broker.managed import ManagedMosquitto
from pooldesk_server.broker.service.config import build_backend
from pooldesk_server.broker.service.extension import BrokerExtension
from pooldesk_server.broker.service.settling import ROUNDS
from pooldesk_server.broker.store import HashedLogin
from tests.broker.app_support import Backend, app_settings, open_backend, probe_for
from tests.broker.probe import NOT_AUTHORIZED, REFUSED_SUBSCRIBE
from tests.broker.test_sharing import A1, A2, P1, P2, _member, _share

WAIT_S = 10.0


class HeldPut:
    """Holds the next login put of one process's broker client until `release` is set, then
    forwards it unchanged: a slow put, deterministically. Only the timing is a stand-in."""

    def __init__(self, broker: ManagedMosquitto) -> None:
        self.arrived, self.release = asyncio.Event(), asyncio.Event()
        self._forward = broker.put_logins
        broker.put_logins = self._put_logins  # type: ignore[method-assign]

    async def _put_logins(self, logins: Sequence[HashedLogin]) -> None:
        if not self.arrived.is_set():
            self.arrived.set()
            await self.release.wait()
        await self._forward(logins)


class ChangeAfterEachPut:
    """After each login put of one process's broker client, while `on`, runs `change` (a share
    change committed on another worker) before the put returns."""

    def __init__(self, broker: ManagedMosquitto, change: Callable[[], Awaitable[None]]) -> None:
        self.change, self.on, self.puts = change, True, 0
        self._forward = broker.put_logins
        broker.put_logins = self._put_logins  # type: ignore[method-assign]

    async def _put_logins(self, logins: Sequence[HashedLogin]) -> None:
        await self._forward(logins)
        if self.on:
            self.puts += 1
            await self.change()


@pytest.fixture
async def two(backend: Backend, backend_dir: Path) -> AsyncIterator[tuple[Backend, Backend]]:
    """The primary worker (`backend`, it runs the broker) and another on the same database."""
    settings = app_settings(backend_dir)
    extension = BrokerExtension(settings, build_backend(settings, env={}))
    async for worker in open_backend(backend_dir, extension, primary=False):
        assert extension.runner.attached
        yield backend, worker


async def test_a_share_ended_while_another_worker_issues_the_members_login(two):
    primary, worker = two
    alice = await primary.account("alice", A1)
    vera = await _member(primary, "vera")
    share_id = await _share(primary, alice, vera, "vera", "operator")

    held = HeldPut(worker.broker)
    issuing = asyncio.create_task(worker.mqtt_credentials(vera))
    # The worker has its login row and the rights with the share; its put is on the way.
    await asyncio.wait_for(held.arrived.wait(), WAIT_S)
    ended = await primary.http.delete(f"/api/shares/{share_id}", headers=alice)
    assert ended.status_code == 200
    held.release.set()  # the put of the old rights lands after the primary's
    dashboard = probe_for(await asyncio.wait_for(issuing, WAIT_S))
    try:
        assert await dashboard.connect() == 0
        assert await dashboard.subscribe("users/vera/#") == [1]
        assert (await dashboard.subscribe(f"{P1}/#"))[0] in REFUSED_SUBSCRIBE
    finally:
        dashboard.close()


async def test_a_share_ended_while_another_worker_widens_the_members_login(two):
    primary, worker = two
    alice = await primary.account("alice", A1)
    assert (
        await primary.http.post("/api/devices", json={"deviceId": A2}, headers=alice)
    ).status_code == 201
    vera = await _member(primary, "vera")
    first = await _share(primary, alice, vera, "vera", "operator")
    creds = await primary.mqtt_credentials(vera)
    offered = await primary.http.post(
        "/api/shares", json={"username": "vera", "role": "viewer", "deviceId": A2}, headers=alice
    )
    assert offered.status_code == 201, offered.text

    held = HeldPut(worker.broker)
    accepting = asyncio.create_task(
        worker.http.post(f"/api/shares/{offered.json()['share']['id']}/accept", headers=vera)
    )
    # The worker read the rights with both shares; its put is on the way.
    await asyncio.wait_for(held.arrived.wait(), WAIT_S)
    ended = await primary.http.delete(f"/api/shares/{first}", headers=alice)
    assert ended.status_code == 200
    held.release.set()  # the put of both shares lands after the primary's
    assert (await asyncio.wait_for(accepting, WAIT_S)).status_code == 200
    dashboard = probe_for(creds)
    try:
        assert await dashboard.connect() == 0
        assert await dashboard.subscribe(f"{P2}/#") == [1]
        assert (await dashboard.subscribe(f"{P1}/#"))[0] in REFUSED_SUBSCRIBE
    finally:
        dashboard.close()


async def test_shares_that_change_after_every_put_fail_the_issue_and_leave_nothing(two):
    """A bounded settling: the app is told to retry (503, Retry-After), the login it was not
    given is ending, and the retry, once the changes stop, works with the current rights."""
    primary, worker = two
    alice = await primary.account("alice", A1)
    vera = await _member(primary, "vera")
    share_id = await _share(primary, alice, vera, "vera", "operator")
    roles = itertools.cycle(("viewer", "operator"))

    async def change_role() -> None:
        changed = await primary.http.patch(
            f"/api/shares/{share_id}", json={"role": next(roles)}, headers=alice
        )
        assert changed.status_code == 200, changed.text

    storm = ChangeAfterEachPut(worker.broker, change_role)
    refused = await worker.http.get("/api/auth/mqtt-credentials", headers=vera)
    storm.on = False
    assert refused.status_code == 503, refused.text
    assert f"changed {ROUNDS} times" in refused.json()["error"]["message"]
    assert refused.headers["Retry-After"]
    assert storm.puts == ROUNDS
    assert set((await worker.rows()).values()) == {"pending_delete"}

    assert (
        await primary.http.patch(f"/api/shares/{share_id}", json={"role": "viewer"}, headers=alice)
    ).status_code == 200
    dashboard = probe_for(await worker.mqtt_credentials(vera))
    try:
        assert await dashboard.connect() == 0
        assert await dashboard.subscribe(f"{P1}/#") == [1]
        assert await dashboard.publish(f"{P1}/pump/set", "{}") == NOT_AUTHORIZED
    finally:
        dashboard.close()
