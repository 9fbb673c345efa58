"""The session cache behind the authenticated reads never serves a revoked, expired or
password-changed session past its bound: at once in the same process, within
POOLDESK_SESSION_CACHE_SECONDS (2 s) in another process on the same database."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from pooldesk_server.http.session_cache import CachedSession, SessionCache
from pooldesk_server.security.tokens import Claims
from pooldesk_server.settings import Settings
from tests.backend.conftest import make_settings, open_client
from tests.backend.helpers import PASSWORD, register
from tests.backend.serve import running_serve

READS = ("/api/auth/verify", "/api/devices", "/api/auth/sessions", "/api/account/audit")


async def login(client: httpx.AsyncClient, _username: str) -> dict:
    """A new session of alice: {token, refreshToken, sessionId, ...}."""
    response = await client.post(
        "/api/auth/login", json={"username": "alice", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _reads_ok(client: httpx.AsyncClient, token: str) -> None:
    for path in READS:
        response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, (path, response.text)


async def _reads_refused(client: httpx.AsyncClient, token: str) -> None:
    for path in READS:
        response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"]["code"] == "unauthorized"


async def test_logout_is_refused_at_once_in_the_same_process(client):
    await register(client, "alice")
    token = (await login(client, "alice"))["token"]
    await _reads_ok(client, token)  # now cached
    await _reads_ok(client, token)
    response = await client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    await _reads_refused(client, token)


async def test_ended_session_and_password_change_are_refused_at_once(client):
    await register(client, "alice")
    first = await login(client, "alice")
    second = await login(client, "alice")
    third = await login(client, "alice")
    for pair in (first, second, third):
        await _reads_ok(client, pair["token"])
    ended = await client.delete(
        f"/api/auth/sessions/{second['sessionId']}",
        headers={"Authorization": f"Bearer {first['token']}"},
    )
    assert ended.status_code == 200
    await _reads_refused(client, second["token"])
    changed = await client.post(
        "/api/auth/password",
        json={"currentPassword": PASSWORD, "newPassword": "Another-Pass-9876"},
        headers={"Authorization": f"Bearer {first['token']}"},
    )
    assert changed.status_code == 200, changed.text
    await _reads_refused(client, third["token"])
    await _reads_ok(client, first["token"])  # the session that changed it stays


async def test_account_deletion_is_refused_at_once(client):
    await register(client, "alice")
    pair = await login(client, "alice")
    await _reads_ok(client, pair["token"])
    deleted = await client.request(
        "DELETE",
        "/api/account",
        json={"password": PASSWORD},
        headers={"Authorization": f"Bearer {pair['token']}"},
    )
    assert deleted.status_code == 200
    await _reads_refused(client, pair["token"])


async def test_an_expired_session_is_not_served_from_the_cache(database_url: str, tmp_path: Path):
    # The session ends (30 days after its last refresh, here 1 s) while its access token is
    # still valid: a cached entry must not outlive it.
    settings: Settings = make_settings(database_url, tmp_path, refresh_token_seconds=1)
    async for client in open_client(settings):
        await register(client, "alice")
        pair = await login(client, "alice")
        await _reads_ok(client, pair["token"])
        ended_by = time.monotonic() + 1.0
        while True:
            sent = time.monotonic()  # a slow answer does not count against the server
            response = await client.get(
                "/api/auth/verify", headers={"Authorization": f"Bearer {pair['token']}"}
            )
            if response.status_code == 401:
                break
            assert response.status_code == 200, response.text
            assert sent <= ended_by + 0.5, "an expired session was still served"
            await asyncio.sleep(0.05)
        await _reads_refused(client, pair["token"])


def _wait_refused(base_url: str, token: str, bound: float) -> float:
    """Seconds until a read on base_url refuses the token (fails past `bound` + slack)."""
    started = time.monotonic()
    with httpx.Client(base_url=base_url, timeout=10) as http:
        while True:
            response = http.get("/api/devices", headers={"Authorization": f"Bearer {token}"})
            if response.status_code == 401:
                return time.monotonic() - started
            assert response.status_code == 200, response.text
            assert time.monotonic() - started < bound + 1.5, "revocation not seen in time"
            time.sleep(0.05)


@pytest.mark.slow
def test_revocation_on_one_instance_is_seen_by_another_within_the_bound(tmp_path: Path):
    database = tmp_path / "shared.db"
    url = f"sqlite+aiosqlite:///{database}"
    env = {"JWT_SECRET": "two-instances-" + "k" * 40, "DATABASE_URL": url}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        running_serve(url, tmp_path / "a", **env) as a,
        running_serve(url, tmp_path / "b", **env) as b,
        httpx.Client(base_url=a.base_url, timeout=30) as on_a,
        httpx.Client(base_url=b.base_url, timeout=30) as on_b,
    ):
        assert (
            on_a.post(
                "/api/auth/register",
                json={
                    "username": "alice",
                    "email": "alice@example.com",
                    "password": PASSWORD,
                    "deviceId": "ESP-A1B2C3",
                },
            ).status_code
            == 201
        )

        def sign_in() -> dict:
            response = on_a.post(
                "/api/auth/login", json={"username": "alice", "password": PASSWORD}
            )
            assert response.status_code == 200, response.text
            return response.json()

        first, second, third = sign_in(), sign_in(), sign_in()
        for pair in (first, second, third):  # cached on B
            auth = {"Authorization": f"Bearer {pair['token']}"}
            assert on_b.get("/api/devices", headers=auth).status_code == 200
        # Logout on A: B refuses within the bound.
        assert (
            on_a.post(
                "/api/auth/logout", headers={"Authorization": f"Bearer {second['token']}"}
            ).status_code
            == 200
        )
        assert _wait_refused(b.base_url, second["token"], 2.0) <= 3.5
        # Password change on A: B refuses the other sessions within the bound.
        changed = on_a.post(
            "/api/auth/password",
            json={"currentPassword": PASSWORD, "newPassword": "Another-Pass-9876"},
            headers={"Authorization": f"Bearer {first['token']}"},
        )
        assert changed.status_code == 200, changed.text
        assert _wait_refused(b.base_url, third["token"], 2.0) <= 3.5
        keep = {"Authorization": f"Bearer {first['token']}"}
        assert on_b.get("/api/devices", headers=keep).status_code == 200


async def test_an_expired_access_token_is_refused_though_seen_before(
    database_url: str, tmp_path: Path
):
    # 3 s: long enough for the first reads to come before the expiry on a loaded machine
    settings = make_settings(database_url, tmp_path, access_token_seconds=3)
    async for client in open_client(settings):
        await register(client, "alice")
        pair = await login(client, "alice")
        await _reads_ok(client, pair["token"])
        deadline = time.monotonic() + 8
        while True:
            response = await client.get(
                "/api/auth/verify", headers={"Authorization": f"Bearer {pair['token']}"}
            )
            if response.status_code == 401:
                break
            assert time.monotonic() < deadline, "an expired access token was still accepted"
            await asyncio.sleep(0.05)
        assert response.json()["error"]["message"] == "Invalid or expired token; sign in again"


async def test_verify_names_the_first_device_after_adding_and_removing(client):
    await register(client, "alice", device_id="ESP-00000B")
    pair = await login(client, "alice")
    auth = {"Authorization": f"Bearer {pair['token']}"}

    async def first_device() -> str | None:
        response = await client.get("/api/auth/verify", headers=auth)
        assert response.status_code == 200, response.text
        return response.json()["user"]["deviceId"]

    assert await first_device() == "ESP-00000B"
    removed = await client.delete("/api/devices/ESP-00000B", headers=auth)
    assert removed.status_code == 200
    assert await first_device() is None
    added = await client.post("/api/devices", json={"deviceId": "ESP-00000A"}, headers=auth)
    assert added.status_code == 201, added.text
    assert await first_device() == "ESP-00000A"


async def test_a_read_after_a_minute_records_the_sessions_last_use_without_waiting_for_it(client):
    from datetime import timedelta

    from sqlalchemy import update

    from pooldesk_server.db.models import Session
    from pooldesk_server.db.types import utcnow

    await register(client, "alice")
    pair = await login(client, "alice")
    auth = {"Authorization": f"Bearer {pair['token']}"}
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    long_ago = utcnow() - timedelta(minutes=5)
    async with ctx.db.write() as db:
        await db.execute(
            update(Session).where(Session.id == pair["sessionId"]).values(last_used_at=long_ago)
        )

    # The read answers; the touch it started is written in the background, soon.
    assert (await client.get("/api/auth/verify", headers=auth)).status_code == 200
    deadline = time.monotonic() + 10
    while True:
        async with ctx.db.read() as db:
            stored = await db.scalar(
                select(Session.last_used_at).where(Session.id == pair["sessionId"])
            )
        if stored is not None and stored > long_ago + timedelta(minutes=4):
            break
        assert time.monotonic() < deadline, f"last use still {stored}"
        await asyncio.sleep(0.05)


def test_the_cache_holds_at_most_its_bound_and_drops_the_least_recently_read():
    """Memory stays bounded however many sessions are in use: past `max_entries` the entries
    read from the database longest ago go (and are read again when next used)."""
    cache = SessionCache(ttl_seconds=60, max_entries=3)
    now = datetime.now(UTC)
    later = now + timedelta(hours=1)

    def entry(n: int) -> CachedSession:
        return CachedSession(f"s{n}", f"u{n}", f"user{n}", "", later, now, time.monotonic())

    for n in range(5):
        cache.put(entry(n), cache.epoch)
    kept = [n for n in range(5) if cache.get(f"s{n}", f"u{n}", now) is not None]
    assert kept == [2, 3, 4]
    claims = Claims("u", "s", "j", "access", int(time.time()) + 600)
    for n in range(10):
        cache.remember_token(f"token{n}", claims)
        cache.put_first_device(f"u{n}", None, cache.epoch)
    assert cache.checked_token("token0") is None
    assert cache.checked_token("token9") is claims
    assert sum(cache.first_device(f"u{n}")[0] for n in range(10)) <= 3
