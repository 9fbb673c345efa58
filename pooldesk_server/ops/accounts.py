"""Operator commands on accounts, sessions and devices (`pooldesk-backend users|devices|sessions`).

They work on the database directly, also while `serve` runs. What a running server must do at
the broker (end the MQTT logins of a disabled user or of revoked sessions) is written in the
same transaction as an `operator_requests` row; every running server polls that table and
carries the request out at once (pooldesk_server/ops/requests.py). A server that is not running does
it when it starts, and the broker layer's reconcile loop finishes any deletion the broker
refused (the rows stay `pending_delete`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from pooldesk_server.audit.service import record
from pooldesk_server.db.engine import Database
from pooldesk_server.db.models import Device, MqttLogin, OperatorRequest, Session, User
from pooldesk_server.db.types import utcnow
from pooldesk_server.devices.service import mark_mqtt_logins_pending_delete


class OperatorError(Exception):
    """A command that cannot be done as asked (unknown user...): the message says why."""


@dataclass(frozen=True)
class UserRow:
    username: str
    email: str
    created_at: datetime
    last_login_at: datetime | None
    disabled_at: datetime | None
    devices: int
    live_sessions: int


@dataclass(frozen=True)
class UserDetail:
    user: UserRow
    user_id: str
    devices: list[DeviceRow]
    sessions: list[tuple[str, datetime, datetime, str, str]]  # id, created, last used, agent, ip
    mqtt_logins: list[tuple[str, str, str]]  # name, kind, broker state


@dataclass(frozen=True)
class DeviceRow:
    device_id: str
    owner: str
    name: str
    status: str
    last_seen: datetime | None


@dataclass(frozen=True)
class Ended:
    """What a disable or a revoke ended."""

    username: str
    sessions: int
    mqtt_logins: int
    already: bool = False  # disable: the account was disabled before


def _live(now: datetime):
    return (Session.revoked_at.is_(None)) & (Session.expires_at > now)


async def list_users(database: Database) -> list[UserRow]:
    now = utcnow()
    devices = select(Device.user_id, func.count().label("n")).group_by(Device.user_id).subquery()
    sessions = (
        select(Session.user_id, func.count().label("n"))
        .where(_live(now))
        .group_by(Session.user_id)
        .subquery()
    )
    query = (
        select(
            User,
            func.coalesce(devices.c.n, 0),
            func.coalesce(sessions.c.n, 0),
        )
        .outerjoin(devices, devices.c.user_id == User.id)
        .outerjoin(sessions, sessions.c.user_id == User.id)
        .order_by(User.username)
    )
    async with database.read() as db:
        rows = (await db.execute(query)).all()
    return [_user_row(user, n_devices, n_sessions) for user, n_devices, n_sessions in rows]


def _user_row(user: User, n_devices: int, n_sessions: int) -> UserRow:
    return UserRow(
        user.username,
        user.email,
        user.created_at,
        user.last_login_at,
        user.disabled_at,
        int(n_devices),
        int(n_sessions),
    )


async def _user(db, username: str) -> User:
    user = await db.scalar(select(User).where(User.username == username))
    if user is None:
        raise OperatorError(
            f"no user named {username!r} (`pooldesk-backend users list` lists them)"
        )
    return user


async def show_user(database: Database, username: str) -> UserDetail:
    now = utcnow()
    async with database.read() as db:
        user = await _user(db, username)
        devices = (
            await db.scalars(
                select(Device).where(Device.user_id == user.id).order_by(Device.device_id)
            )
        ).all()
        sessions = (
            await db.scalars(
                select(Session)
                .where(Session.user_id == user.id, _live(now))
                .order_by(Session.created_at)
            )
        ).all()
        logins = (
            await db.execute(
                select(MqttLogin.mqtt_user, MqttLogin.kind, MqttLogin.broker_state)
                .where(MqttLogin.user_id == user.id)
                .order_by(MqttLogin.mqtt_user)
            )
        ).all()
    return UserDetail(
        user=_user_row(user, len(devices), len(sessions)),
        user_id=user.id,
        devices=[_device_row(d, user.username) for d in devices],
        sessions=[
            (s.id, s.created_at, s.last_used_at, s.user_agent, s.client_address) for s in sessions
        ],
        mqtt_logins=[(name, kind, state) for name, kind, state in logins],
    )


def _device_row(device: Device, owner: str) -> DeviceRow:
    return DeviceRow(device.device_id, owner, device.name, device.status, device.last_seen)


async def list_devices(database: Database, *, online_only: bool = False) -> list[DeviceRow]:
    query = (
        select(Device, User.username)
        .join(User, User.id == Device.user_id)
        .order_by(Device.device_id)
    )
    if online_only:
        query = query.where(Device.status == "online")
    async with database.read() as db:
        rows = (await db.execute(query)).all()
    return [_device_row(device, owner) for device, owner in rows]


async def _end_sessions(db, user: User, now: datetime) -> list[str]:
    session_ids = list(
        (
            await db.scalars(
                select(Session.id).where(Session.user_id == user.id, Session.revoked_at.is_(None))
            )
        ).all()
    )
    if session_ids:
        await db.execute(
            update(Session)
            .where(Session.id.in_(session_ids), Session.revoked_at.is_(None))
            .values(revoked_at=now, revoke_reason="operator_revoked")
            .execution_options(synchronize_session=False)
        )
    return session_ids


def _request(action: str, user: User, session_ids: list[str], mqtt_users: tuple[str, ...]):
    return OperatorRequest(
        created_at=utcnow(),
        action=action,
        user_id=user.id,
        username=user.username,
        detail=json.dumps({"sessionIds": session_ids, "mqttUsers": list(mqtt_users)}),
    )


async def disable_user(database: Database, username: str) -> Ended:
    """Disable the account: no sign-in, its tokens and its devices' API keys refused, every
    session revoked and every MQTT login of it (dashboards' and devices') ended."""
    now = utcnow()
    async with database.write() as db:
        user = await _user(db, username)
        already = user.disabled_at is not None
        if not already:
            await db.execute(update(User).where(User.id == user.id).values(disabled_at=now))
        session_ids = await _end_sessions(db, user, now)
        mqtt_users = await mark_mqtt_logins_pending_delete(
            db, MqttLogin.user_id == user.id, MqttLogin.broker_state != "pending_delete"
        )
        db.add(_request("disable", user, session_ids, mqtt_users))
        record(
            db,
            event="account_disable",
            outcome="success",
            user_id=user.id,
            client_address="operator",
            endedSessions=len(session_ids),
            endedMqttLogins=len(mqtt_users),
        )
    return Ended(user.username, len(session_ids), len(mqtt_users), already)


async def enable_user(database: Database, username: str) -> bool:
    """Allow the account again; False if it was not disabled. Its devices need new MQTT
    credentials (the ones they had were ended when it was disabled)."""
    async with database.write() as db:
        user = await _user(db, username)
        if user.disabled_at is None:
            return False
        await db.execute(update(User).where(User.id == user.id).values(disabled_at=None))
        record(
            db,
            event="account_enable",
            outcome="success",
            user_id=user.id,
            client_address="operator",
        )
    return True


async def revoke_sessions(database: Database, username: str) -> Ended:
    """End every session of the user (they must sign in again) and their dashboards' MQTT
    logins; devices are not touched."""
    now = utcnow()
    async with database.write() as db:
        user = await _user(db, username)
        session_ids = await _end_sessions(db, user, now)
        mqtt_users = await mark_mqtt_logins_pending_delete(
            db,
            MqttLogin.user_id == user.id,
            MqttLogin.kind == "session",
            MqttLogin.broker_state != "pending_delete",
        )
        db.add(_request("revoke_sessions", user, session_ids, mqtt_users))
        record(
            db,
            event="session_end",
            outcome="success",
            user_id=user.id,
            client_address="operator",
            sessionIds=session_ids,
            by="operator",
        )
    return Ended(user.username, len(session_ids), len(mqtt_users))
