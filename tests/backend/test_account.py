"""Export, deletion (password re-entered) and the audit log."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from pooldesk_server.db.engine import Database
from pooldesk_server.db.models import AuditEntry, Device, Event, Session, User
from tests.backend.helpers import PASSWORD, error_of, register, signed_in


async def test_export_holds_all_of_the_users_data(client):
    account = await signed_in(client)
    key = (await client.post("/api/devices/ESP-A1B2C3/api-key", headers=account.auth)).json()
    await client.post(
        "/api/event",
        json={"type": "telemetry", "data": {"temp": 25}},
        headers={"X-API-Key": key["apiKey"]},
    )
    response = await client.get("/api/account/export", headers=account.auth)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["user"]["username"] == "testuser"
    assert data["user"]["email"] == "testuser@example.com"
    assert [d["deviceId"] for d in data["devices"]] == ["ESP-A1B2C3"]
    assert data["history"]["ESP-A1B2C3"][0]["data"] == {"temp": 25}
    assert [s["id"] for s in data["sessions"]] == [account.session_id]
    events = [a["event"] for a in data["audit"]]
    assert events[:3] == ["register", "login", "api_key_issue"]
    assert events[-1] == "account_export"
    text = response.text
    assert PASSWORD not in text
    assert key["apiKey"] not in text
    assert account.token not in text
    assert "argon2" not in text
    assert (await client.get("/api/account/export")).status_code == 401


async def test_delete_account_needs_the_password_and_removes_everything(client, settings):
    account = await signed_in(client)
    other = await signed_in(client, "other", device_id="ESP-000002")
    await client.post(
        "/api/event", json={"deviceId": "ESP-A1B2C3", "type": "t"}, headers=account.auth
    )
    wrong = await client.request(
        "DELETE", "/api/account", json={"password": "not it"}, headers=account.auth
    )
    assert wrong.status_code == 403
    missing = await client.request("DELETE", "/api/account", json={}, headers=account.auth)
    assert missing.status_code == 400
    deleted = await client.request(
        "DELETE", "/api/account", json={"password": PASSWORD}, headers=account.auth
    )
    assert deleted.status_code == 200
    assert deleted.json()["message"] == "Account deleted"
    assert (await client.get("/api/auth/verify", headers=account.auth)).status_code == 401

    database = Database(settings.database_url)
    try:
        async with database.read() as db:
            assert await db.scalar(select(func.count()).select_from(User)) == 1
            assert await db.scalar(select(func.count()).select_from(Device)) == 1
            assert await db.scalar(select(func.count()).select_from(Event)) == 0
            sessions = await db.scalar(
                select(func.count()).select_from(Session).where(Session.user_id == account.user_id)
            )
            assert sessions == 0
            trail = (
                await db.scalars(select(AuditEntry).where(AuditEntry.event == "account_delete"))
            ).all()
            assert [json.loads(t.detail)["userId"] for t in trail] == [account.user_id]
            assert trail[0].user_id is None
    finally:
        await database.dispose()
    # The email address and the device are free again; the username is retired for good.
    again = await register(client, "newcomer", email=account.email, device_id="ESP-A1B2C3")
    assert again.user_id != account.user_id
    reused = await client.post(
        "/api/auth/register",
        json={
            "username": "testuser",
            "email": "someone-else@example.com",
            "password": PASSWORD,
            "deviceId": "ESP-0000F1",
        },
    )
    assert reused.status_code == 409
    assert error_of(reused)["message"] == "Username testuser is not available; choose another"
    assert error_of(reused)["reason"] == "username_retired"
    assert (await client.get("/api/auth/verify", headers=other.auth)).status_code == 200


async def test_audit_log_records_successes_and_failures_without_secrets(client):
    account = await signed_in(client)
    await client.post("/api/auth/login", json={"username": "testuser", "password": "Wrong-Pass-1"})
    await client.post("/api/devices", json={"deviceId": "ESP-0000AA"}, headers=account.auth)
    await client.delete("/api/devices/ESP-0000AA", headers=account.auth)
    await client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token})
    response = await client.get("/api/account/audit", headers=account.auth)
    assert response.status_code == 200
    entries = response.json()["entries"]
    kinds = [(e["event"], e["outcome"]) for e in entries]
    assert kinds == [
        ("refresh", "success"),
        ("device_remove", "success"),
        ("device_add", "success"),
        ("login", "failure"),
        ("login", "success"),
        ("register", "success"),
    ]
    for entry in entries:
        assert entry["at"].endswith("Z")
        assert entry["clientAddress"] == "203.0.113.7"
    assert "Wrong-Pass-1" not in response.text
    assert account.refresh_token not in response.text


async def test_audit_log_pages(client):
    account = await signed_in(client)
    for _ in range(4):
        await client.get("/api/account/export", headers=account.auth)
    first = (
        await client.get("/api/account/audit", params={"limit": 3}, headers=account.auth)
    ).json()
    assert len(first["entries"]) == 3
    assert first["nextCursor"]
    rest = (
        await client.get(
            "/api/account/audit",
            params={"limit": 3, "cursor": first["nextCursor"]},
            headers=account.auth,
        )
    ).json()
    assert len(rest["entries"]) == 3
    assert rest["nextCursor"] is None
    ids = [e["id"] for e in first["entries"] + rest["entries"]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 6
    bad = await client.get("/api/account/audit", params={"limit": "-1"}, headers=account.auth)
    assert bad.status_code == 400
    assert error_of(bad)["code"] == "validation_error"


async def test_refused_registrations_are_audited_for_the_operator(client, settings):
    await register(client, "alice", device_id="ESP-000001")
    response = await client.post(
        "/api/auth/register",
        json={
            "username": "alice",
            "email": "x@example.com",
            "password": PASSWORD,
            "deviceId": "ESP-000002",
        },
    )
    assert response.status_code == 409
    database = Database(settings.database_url)
    try:
        async with database.read() as db:
            failures = (
                await db.scalars(
                    select(AuditEntry).where(
                        AuditEntry.event == "register", AuditEntry.outcome == "failure"
                    )
                )
            ).all()
    finally:
        await database.dispose()
    assert [json.loads(f.detail) for f in failures] == [
        {"reason": "conflict", "deviceId": "ESP-000002"}
    ]
    assert failures[0].user_id is None
    assert PASSWORD not in failures[0].detail
