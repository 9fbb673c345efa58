"""Sessions' `last_used_at`, written in the background, many in one transaction.

A cached read of a session that was last touched over a minute ago used to wait for its own
write transaction. Under load that is a storm: every signed-in client crosses the minute at about
the same time, their writes queue for SQLite's one write lock (or a pooled connection), and each
of those requests waits for all the writes before it — seconds at p99 for a read that otherwise
takes milliseconds. `last_used_at` only informs the session list and the operator, so the read
answers at once and the touch follows, batched with the others pending."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import bindparam, update

from pooldesk_server.db.engine import Database
from pooldesk_server.db.models import Session

log = logging.getLogger("pooldesk_server.http")

_SESSIONS = Session.metadata.tables[Session.__tablename__]
# Core, not ORM: one executemany for the whole batch.
_TOUCH = (
    update(_SESSIONS).where(_SESSIONS.c.id == bindparam("sid")).values(last_used_at=bindparam("at"))
)


class SessionTouches:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: dict[str, datetime] = {}
        self._task: asyncio.Task[None] | None = None

    def touch(self, session_id: str, at: datetime) -> None:
        """Record that the session was used at `at`; written soon, without waiting."""
        self._pending[session_id] = at
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, {}
            params = [{"sid": sid, "at": at} for sid, at in batch.items()]
            try:
                async with self._db.write() as db:
                    connection = await db.connection()
                    await connection.execute(_TOUCH, params)
            except Exception:
                log.warning("could not record %d sessions' last use", len(params), exc_info=True)

    async def wait(self) -> None:
        """Until every pending touch is written (tests; shutdown)."""
        if self._task is not None:
            await self._task
