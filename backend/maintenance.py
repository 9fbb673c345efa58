"""Housekeeping so the database does not grow without bound on a server that runs for years:
ended sessions (with their spent refresh tokens) and stale login-throttle rows are purged."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_

from backend.db.engine import Database
from backend.db.models import LoginThrottle, Session
from backend.db.types import utcnow

log = logging.getLogger("backend.maintenance")

# A revoked session is kept a while so that a replayed refresh token of it is still recognised
# (and audited) as reuse rather than as garbage.
KEEP_REVOKED = timedelta(days=7)
PURGE_INTERVAL_SECONDS = 3600


@dataclass(frozen=True)
class Purged:
    sessions: int
    throttle_rows: int


async def purge(database: Database, *, failure_window_seconds: int) -> Purged:
    now = utcnow()
    async with database.write() as db:
        sessions = await db.execute(
            delete(Session)
            .where(or_(Session.expires_at < now, Session.revoked_at < now - KEEP_REVOKED))
            .execution_options(synchronize_session=False)
        )
        stale = now - timedelta(seconds=failure_window_seconds)
        throttle = await db.execute(
            delete(LoginThrottle)
            .where(
                LoginThrottle.last_failure_at < stale,
                or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
            )
            .execution_options(synchronize_session=False)
        )
    return Purged(sessions=sessions.rowcount or 0, throttle_rows=throttle.rowcount or 0)


async def purge_forever(database: Database, *, failure_window_seconds: int) -> None:
    while True:
        try:
            purged = await purge(database, failure_window_seconds=failure_window_seconds)
            if purged.sessions or purged.throttle_rows:
                log.info(
                    "purged %d ended sessions, %d stale throttle rows",
                    purged.sessions,
                    purged.throttle_rows,
                )
        except Exception:
            log.exception("housekeeping failed; will retry")
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)
