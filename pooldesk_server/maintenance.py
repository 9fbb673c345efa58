"""Housekeeping so the database does not grow without bound on a server that runs for years:
ended sessions (with their spent refresh tokens), stale throttle rows and addresses that have
not signed in to their account for `known_address_days` are purged.

The MQTT logins of the purged sessions must not outlive them: they are marked
`pending_delete` in the purging transaction, and a `SessionsEnded` event (reason `expired`) per
user names them after the commit, so the broker layer removes them from the broker.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from pooldesk_server.accounts.events import AccountEvents, SessionsEnded
from pooldesk_server.db import rows_changed
from pooldesk_server.db.engine import Database
from pooldesk_server.db.models import (
    KnownAddress,
    LoginThrottle,
    MqttLogin,
    Session,
    SetupCode,
    SetupGrant,
    User,
)
from pooldesk_server.db.types import utcnow

log = logging.getLogger("pooldesk_server.maintenance")

# A revoked session is kept a while so that a replayed refresh token of it is still recognised
# (and audited) as reuse rather than as garbage.
KEEP_REVOKED = timedelta(days=7)
PURGE_INTERVAL_SECONDS = 3600


@dataclass(frozen=True)
class Purged:
    sessions: int
    throttle_rows: int
    mqtt_logins: int = 0


@dataclass
class _EndedLogins:
    username: str
    session_ids: set[str]
    mqtt_users: set[str]


async def purge(
    database: Database,
    *,
    failure_window_seconds: int,
    events: AccountEvents | None = None,
    known_address_days: int = 90,
) -> Purged:
    now = utcnow()
    ended = or_(Session.expires_at < now, Session.revoked_at < now - KEEP_REVOKED)
    async with database.write() as db:
        by_user = await _logins_of_sessions(db, ended)
        await db.execute(
            update(MqttLogin)
            .where(MqttLogin.session_id.in_(select(Session.id).where(ended)))
            .values(broker_state="pending_delete")
            .execution_options(synchronize_session=False)
        )
        sessions = await db.execute(
            delete(Session).where(ended).execution_options(synchronize_session=False)
        )
        stale = now - timedelta(seconds=failure_window_seconds)
        await db.execute(
            delete(KnownAddress)
            .where(KnownAddress.last_success_at < now - timedelta(days=known_address_days))
            .execution_options(synchronize_session=False)
        )
        # Spent set-up codes and installers' grants: once expired they grant nothing.
        for table in (SetupCode, SetupGrant):
            await db.execute(
                delete(table)
                .where(table.expires_at < now)
                .execution_options(synchronize_session=False)
            )
        throttle = await db.execute(
            delete(LoginThrottle)
            .where(
                LoginThrottle.last_failure_at < stale,
                or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
            )
            .execution_options(synchronize_session=False)
        )
    if events is not None:
        for user_id, logins in by_user.items():
            await events.publish(
                SessionsEnded(
                    user_id,
                    logins.username,
                    tuple(sorted(logins.session_ids)),
                    "expired",
                    tuple(sorted(logins.mqtt_users)),
                )
            )
    return Purged(
        sessions=rows_changed(sessions) or 0,
        throttle_rows=rows_changed(throttle) or 0,
        mqtt_logins=sum(len(x.mqtt_users) for x in by_user.values()),
    )


async def _logins_of_sessions(
    db: AsyncSession, ended: ColumnElement[bool]
) -> dict[str, _EndedLogins]:
    """user id -> the MQTT logins of that user's ending sessions (only sessions that have one)."""
    rows = await db.execute(
        select(Session.user_id, User.username, Session.id, MqttLogin.mqtt_user)
        .join(MqttLogin, MqttLogin.session_id == Session.id)
        .join(User, User.id == Session.user_id)
        .where(ended)
    )
    by_user: dict[str, _EndedLogins] = defaultdict(lambda: _EndedLogins("", set(), set()))
    for user_id, username, session_id, mqtt_user in rows:
        logins = by_user[user_id]
        logins.username = username
        logins.session_ids.add(session_id)
        logins.mqtt_users.add(mqtt_user)
    return dict(by_user)


async def purge_forever(
    database: Database,
    *,
    failure_window_seconds: int,
    events: AccountEvents | None = None,
    known_address_days: int = 90,
) -> None:
    while True:
        try:
            purged = await purge(
                database,
                failure_window_seconds=failure_window_seconds,
                events=events,
                known_address_days=known_address_days,
            )
            if purged.sessions or purged.throttle_rows:
                log.info(
                    "purged %d ended sessions (%d MQTT logins to remove), %d stale throttle rows",
                    purged.sessions,
                    purged.mqtt_logins,
                    purged.throttle_rows,
                )
        except Exception:
            log.exception("housekeeping failed; will retry")
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)
