"""The hook the broker layer subscribes to: it learns which MQTT logins to remove, after the
change is committed, and those logins are already marked pending_delete."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update

from pooldesk_server.accounts.events import AccountDeleted, DeviceUnbound, SessionsEnded
from pooldesk_server.db.models import Device, MqttLogin, Session
from pooldesk_server.db.types import utcnow
from pooldesk_server.maintenance import purge
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
    assert row.device_id is None
    assert row.broker_state == "pending_delete"

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


async def test_password_change_also_ends_session_logins_without_a_live_session(client):
    ctx = client.app.state.ctx
    seen: list[object] = []

    async def subscriber(event: object) -> None:
        seen.append(event)

    ctx.events.subscribe(subscriber)
    account = await signed_in(client)
    mine = await _add_mqtt_login(ctx, user_id=account.user_id, session_id=account.session_id)
    orphan = await _add_mqtt_login(ctx, user_id=account.user_id, session_id=None)
    async with ctx.db.read() as db:
        device_pk = await db.scalar(select(Device.id).where(Device.device_id == "ESP-A1B2C3"))
    device = await _add_mqtt_login(ctx, user_id=account.user_id, device_pk=device_pk, kind="device")

    changed = await client.post(
        "/api/auth/password",
        json={"currentPassword": PASSWORD, "newPassword": "Another-Pass-456$"},
        headers=account.auth,
    )
    assert changed.status_code == 200
    assert await _states(ctx) == {mine: "synced", orphan: "pending_delete", device: "synced"}
    ended = [e for e in seen if isinstance(e, SessionsEnded)]
    assert ended == [SessionsEnded(account.user_id, "testuser", (), "password_changed", (orphan,))]


async def test_housekeeping_ends_the_mqtt_logins_of_the_sessions_it_purges(client, settings):
    ctx = client.app.state.ctx
    seen: list[object] = []

    async def subscriber(event: object) -> None:
        seen.append(event)

    live = await signed_in(client)
    expired = await login(client, type(live)(**{**live.__dict__}))
    live_login = await _add_mqtt_login(ctx, user_id=live.user_id, session_id=live.session_id)
    expired_login = await _add_mqtt_login(ctx, user_id=live.user_id, session_id=expired.session_id)
    async with ctx.db.write() as db:
        await db.execute(
            update(Session)
            .where(Session.id == expired.session_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )

    ctx.events.subscribe(subscriber)
    purged = await purge(
        ctx.db, failure_window_seconds=settings.login_failure_window_seconds, events=ctx.events
    )
    assert purged.sessions == 1
    assert purged.mqtt_logins == 1
    assert await _states(ctx) == {live_login: "synced", expired_login: "pending_delete"}
    assert seen == [
        SessionsEnded(live.user_id, "testuser", (expired.session_id,), "expired", (expired_login,))
    ]
