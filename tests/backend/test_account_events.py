"""The hook the broker layer subscribes to: it learns which MQTT logins to remove, after the
change is committed, and those logins are already marked pending_delete."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from backend.accounts.events import AccountDeleted, DeviceUnbound, SessionsEnded
from backend.db.models import Device, MqttLogin
from backend.db.types import utcnow
from tests.backend.helpers import PASSWORD, login, signed_in


async def _add_mqtt_login(ctx, *, user_id, session_id=None, device_pk=None, kind="session") -> str:
    name = f"mqtt_{uuid.uuid4().hex[:8]}"
    async with ctx.db.write() as db:
        db.add(
            MqttLogin(
                id=str(uuid.uuid4()),
                user_id=user_id,
                session_id=session_id,
                device_id=device_pk,
                mqtt_user=name,
                client_id=name,
                kind=kind,
                created_at=utcnow(),
                broker_state="synced",
            )
        )
    return name


async def _states(ctx) -> dict[str, str]:
    async with ctx.db.read() as db:
        rows = (await db.scalars(select(MqttLogin))).all()
    return {row.mqtt_user: row.broker_state for row in rows}


async def test_logout_and_password_change_publish_the_sessions_mqtt_logins(client):
    ctx = client.app.state.ctx
    seen: list[object] = []

    async def subscriber(event: object) -> None:
        seen.append(event)

    ctx.events.subscribe(subscriber)
    account = await signed_in(client)
    phone = await login(client, type(account)(**{**account.__dict__}))
    mine = await _add_mqtt_login(ctx, user_id=account.user_id, session_id=account.session_id)
    phones = await _add_mqtt_login(ctx, user_id=account.user_id, session_id=phone.session_id)

    await client.post(
        "/api/auth/password",
        json={"currentPassword": PASSWORD, "newPassword": "Another-Pass-456$"},
        headers=account.auth,
    )
    ended = [e for e in seen if isinstance(e, SessionsEnded)]
    assert ended == [
        SessionsEnded(
            account.user_id, "testuser", (phone.session_id,), "password_changed", (phones,)
        )
    ]
    assert await _states(ctx) == {mine: "synced", phones: "pending_delete"}

    seen.clear()
    await client.post("/api/auth/logout", headers=account.auth)
    assert seen == [
        SessionsEnded(account.user_id, "testuser", (account.session_id,), "logout", (mine,))
    ]
    assert (await _states(ctx))[mine] == "pending_delete"


async def test_device_unbinding_and_account_deletion_publish(client):
    ctx = client.app.state.ctx
    seen: list[object] = []

    async def subscriber(event: object) -> None:
        seen.append(event)

    async def broken(event: object) -> None:
        raise RuntimeError("broker down")

    ctx.events.subscribe(broken)  # a failing subscriber must not fail the request
    ctx.events.subscribe(subscriber)
    account = await signed_in(client)
    async with ctx.db.read() as db:
        device_pk = await db.scalar(select(Device.id).where(Device.device_id == "ESP-A1B2C3"))
    device_login = await _add_mqtt_login(
        ctx, user_id=account.user_id, device_pk=device_pk, kind="device"
    )
    response = await client.delete("/api/devices/ESP-A1B2C3", headers=account.auth)
    assert response.status_code == 200
    assert seen == [DeviceUnbound(account.user_id, "testuser", "ESP-A1B2C3", (device_login,))]
    async with ctx.db.read() as db:
        row = await db.scalar(select(MqttLogin).where(MqttLogin.mqtt_user == device_login))
    assert row.device_id is None and row.broker_state == "pending_delete"

    seen.clear()
    session_login = await _add_mqtt_login(
        ctx, user_id=account.user_id, session_id=account.session_id
    )
    deleted = await client.request(
        "DELETE", "/api/account", json={"password": PASSWORD}, headers=account.auth
    )
    assert deleted.status_code == 200
    both = tuple(sorted((device_login, session_login)))
    assert seen == [AccountDeleted(account.user_id, "testuser", (), both)]
    states = await _states(ctx)
    assert states == {device_login: "pending_delete", session_login: "pending_delete"}
