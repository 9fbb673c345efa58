"""The `mqtt_logins` rows: writing them, and the SQL that says which ones are alive or stale."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from sqlalchemy import and_, exists, not_, or_, select, update

from pooldesk_server.broker.base import BrokerLogin
from pooldesk_server.broker.rights import Rights, dashboard_rights
from pooldesk_server.broker.store import dynsec_password_hash
from pooldesk_server.context import AppContext
from pooldesk_server.db.models import MqttLogin, User
from pooldesk_server.db.models import Session as UserSession
from pooldesk_server.db.types import utcnow
from pooldesk_server.devices.service import mark_mqtt_logins_pending_delete
from pooldesk_server.sharing.queries import active_grants

log = logging.getLogger("pooldesk_server.broker")


def session_alive(now: Any) -> Any:
    """SQL: the row's session exists, is not revoked and has not expired."""
    return exists().where(
        UserSession.id == MqttLogin.session_id,
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > now,
    )


def stale_session_login(now: Any) -> Any:
    """SQL: a session login (synced, or a `pending_put` a crashed issue left) whose session is
    gone, revoked or expired."""
    return and_(
        MqttLogin.kind == "session",
        MqttLogin.broker_state.in_(("synced", "pending_put")),
        or_(MqttLogin.session_id.is_(None), not_(session_alive(now))),
    )


async def dashboard_rights_of(db: Any, user_id: str) -> Rights:
    """A dashboard login's rights: the user's own prefix and their active shares."""
    username = await db.scalar(select(User.username).where(User.id == user_id))
    return dashboard_rights(username, tuple(await active_grants(db, user_id)))


async def insert_pending_put(
    ctx: AppContext,
    login: BrokerLogin,
    kind: str,
    *,
    user_id: str,
    session_id: str | None,
    device_pk: str | None,
) -> str:
    """Write the `pending_put` row; returns the password's hash it keeps."""
    password_hash = await asyncio.to_thread(dynsec_password_hash, login.password)
    async with ctx.db.write() as db:
        db.add(
            MqttLogin(
                id=str(uuid.uuid4()),
                user_id=user_id,
                session_id=session_id,
                device_id=device_pk,
                mqtt_user=login.username,
                client_id=login.client_id,
                kind=kind,
                created_at=utcnow(),
                broker_state="pending_put",
                password_hash=password_hash,
            )
        )
    return password_hash


async def set_state(ctx: AppContext, mqtt_user: str, state: str) -> None:
    async with ctx.db.write() as db:
        await db.execute(
            update(MqttLogin).where(MqttLogin.mqtt_user == mqtt_user).values(broker_state=state)
        )


async def over_session_cap(db: Any, user_id: str, max_sessions: int) -> tuple[str, ...]:
    """Mark the user's least recently issued app logins `pending_delete` so that at most
    `max_sessions` stay (one per signed-in app; an app whose login went fetches a new one
    when the broker refuses it, which then retires the next oldest)."""
    names = list(
        await db.scalars(
            select(MqttLogin.mqtt_user)
            .where(MqttLogin.user_id == user_id, MqttLogin.kind == "session")
            .where(MqttLogin.broker_state == "synced")
            .order_by(MqttLogin.created_at.desc(), MqttLogin.mqtt_user.desc())
            .offset(max_sessions)
        )
    )
    if not names:
        return ()
    log.info("user has over %d app logins: retiring %d", max_sessions, len(names))
    return await mark_mqtt_logins_pending_delete(db, MqttLogin.mqtt_user.in_(names))
