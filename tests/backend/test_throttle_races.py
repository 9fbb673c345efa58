"""Throttles hold under parallel requests (every attempt is counted before its secret is
checked), and cover registration (per client address) and device claims (per user and per
device). Locks here last a minute so that a slow machine cannot let one expire mid-test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from pooldesk_server.accounts.service import MAX_WAITING_PER_NAME
from pooldesk_server.db.models import AuditEntry
from tests.backend.conftest import AppClient, make_settings, open_client
from tests.backend.helpers import PASSWORD, error_of, register, signed_in
from tests.backend.test_devices import CLAIM_CODE, _import

FREE_ACCOUNT = 5  # the documented free failures per account name
LONG_LOCK = {"login_lockout_base_seconds": 60}


@pytest.fixture
async def slow_lock_client(database_url, tmp_path) -> AsyncIterator[AppClient]:
    async for client in open_client(make_settings(database_url, tmp_path, **LONG_LOCK)):
        yield client


def from_address(client: AppClient, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=client.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def statuses(responses: list[httpx.Response]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for response in responses:
        counts[response.status_code] = counts.get(response.status_code, 0) + 1
    return counts


async def test_parallel_wrong_logins_get_no_more_password_checks_than_one_at_a_time(
    slow_lock_client,
):
    client = slow_lock_client
    await register(client)
    wrong = {"username": "testuser", "password": "Wrong-Pass-123!"}
    # as many as a server lets wait for one name (more are turned away: test_signin.py)
    parallel = MAX_WAITING_PER_NAME
    responses = await asyncio.gather(
        *(client.post("/api/auth/login", json=wrong) for _ in range(parallel))
    )
    # Five free failures plus the one that starts the lock, exactly as in sequence; every
    # other request is refused before its password is checked.
    assert statuses(responses) == {401: FREE_ACCOUNT + 1, 429: parallel - FREE_ACCOUNT - 1}
    refused = next(r for r in responses if r.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1
    right = await client.post(
        "/api/auth/login", json={"username": "testuser", "password": PASSWORD}
    )
    assert right.status_code == 429


async def test_parallel_wrong_password_reentry_is_throttled_the_same_way(slow_lock_client):
    client = slow_lock_client
    account = await signed_in(client)
    body = {"currentPassword": "Wrong-Pass-123!", "newPassword": "Another-Pass-456$"}
    responses = await asyncio.gather(
        *(client.post("/api/auth/password", json=body, headers=account.auth) for _ in range(30))
    )
    assert statuses(responses) == {403: FREE_ACCOUNT + 1, 429: 30 - FREE_ACCOUNT - 1}
    deleting = await client.request(
        "DELETE", "/api/account", json={"password": PASSWORD}, headers=account.auth
    )
    assert deleting.status_code == 429, "account deletion shares the re-entry throttle"


async def test_a_right_password_does_not_count_against_the_address(slow_lock_client):
    client = slow_lock_client
    account = await signed_in(client)
    for _ in range(25):  # more than the address's 20 free failures, but all of them right
        response = await client.post(
            "/api/auth/login", json={"username": "testuser", "password": PASSWORD}
        )
        assert response.status_code == 200
    assert (await client.get("/api/auth/verify", headers=account.auth)).status_code == 200


async def test_registration_is_throttled_per_client_address(database_url, tmp_path):
    settings = make_settings(database_url, tmp_path, register_free_attempts_address=3, **LONG_LOCK)
    async for client in open_client(settings):
        bodies = [
            {
                "username": f"burst{n}",
                "email": f"burst{n}@example.com",
                "password": PASSWORD,
                "deviceId": f"ESP-0000{n:02X}",
            }
            for n in range(12)
        ]
        responses = await asyncio.gather(
            *(client.post("/api/auth/register", json=b) for b in bodies)
        )
        # Three free, the fourth goes through and starts the lock, the rest wait.
        assert statuses(responses) == {201: 4, 429: 8}
        refused = next(r for r in responses if r.status_code == 429)
        assert error_of(refused)["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 50
        async with from_address(client, "198.51.100.20") as elsewhere:
            other = await elsewhere.post(
                "/api/auth/register",
                json={
                    **bodies[0],
                    "username": "elsewhere",
                    "email": "e@example.com",
                    "deviceId": "ESP-0000FF",  # which burst device got registered is up to the race
                },
            )
        assert other.status_code == 201, "another address is not locked"


async def _claim(client, account, code: str, device_id: str = "ESP-00BEEF") -> httpx.Response:
    return await client.post(
        "/api/devices", json={"deviceId": device_id, "claimCode": code}, headers=account.auth
    )


async def test_wrong_claim_codes_are_throttled_per_user_and_audited(database_url, tmp_path):
    settings = make_settings(database_url, tmp_path, **LONG_LOCK)
    await _import(
        settings, f"deviceId,claimCode\nESP-00BEEF,{CLAIM_CODE}\nESP-00CAFE,{CLAIM_CODE}\n"
    )
    async for client in open_client(settings):
        alice = await signed_in(client, "alice", device_id="ESP-000001")
        guesses = [f"GUESS{n:011d}" for n in range(20)]
        responses = await asyncio.gather(*(_claim(client, alice, g) for g in guesses))
        assert statuses(responses) == {403: 6, 429: 14}
        refused = next(r for r in responses if r.status_code == 429)
        assert int(refused.headers["Retry-After"]) >= 50
        # The lock is on alice: the right code waits too, and so does another device.
        assert (await _claim(client, alice, CLAIM_CODE)).status_code == 429
        assert (await _claim(client, alice, CLAIM_CODE, "ESP-00CAFE")).status_code == 429

        audit = await client.get("/api/account/audit", headers=alice.auth)
        failures = [
            e
            for e in audit.json()["entries"]
            if e["event"] == "device_add" and e["outcome"] == "failure"
        ]
        assert len(failures) == 6
        assert {e["detail"]["reason"] for e in failures} == {"wrong_claim_code"}
        assert CLAIM_CODE not in audit.text
        assert "GUESS" not in audit.text


async def test_wrong_claim_codes_are_throttled_per_device(database_url, tmp_path):
    settings = make_settings(database_url, tmp_path, **LONG_LOCK)
    await _import(settings, f"deviceId,claimCode\nESP-00BEEF,{CLAIM_CODE}\n")
    async for client in open_client(settings):
        # Guesses spread over several accounts still add up on the device.
        guessers = [
            await signed_in(client, f"guesser{n}", device_id=f"ESP-00000{n}") for n in range(3)
        ]
        results = []
        for n in range(6):
            results.append((await _claim(client, guessers[n % 3], f"GUESS{n:011d}")).status_code)
        assert results == [403] * 6
        owner = await signed_in(client, "owner", device_id="ESP-000009")
        assert (await _claim(client, owner, CLAIM_CODE)).status_code == 429
        # Registering with the device is guarded by the same per-device lock.
        registering = await client.post(
            "/api/auth/register",
            json={
                "username": "newbie",
                "email": "newbie@example.com",
                "password": PASSWORD,
                "deviceId": "ESP-00BEEF",
                "claimCode": CLAIM_CODE,
            },
        )
        assert registering.status_code == 429


async def test_a_right_claim_code_after_some_wrong_ones_claims_the_device(client, settings):
    await _import(settings, f"deviceId,claimCode\nESP-00BEEF,{CLAIM_CODE}\n")
    alice = await signed_in(client, "alice", device_id="ESP-000001")
    for n in range(3):
        assert (await _claim(client, alice, f"GUESS{n:011d}")).status_code == 403
    assert (await _claim(client, alice, CLAIM_CODE)).status_code == 201
    async with client.app.state.ctx.db.read() as db:
        entries = (
            await db.scalars(select(AuditEntry).where(AuditEntry.event == "device_add"))
        ).all()
    assert sorted(e.outcome for e in entries) == ["failure"] * 3 + ["success"]
