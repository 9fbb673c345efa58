"""Failed-login throttling, per account name and per client address, kept in the database so
every backend instance sharing it sees the same counters.

Each key has a free allowance of failures inside a window. Past it, every further failure locks
the key for a delay that doubles (base, 2x base, 4x base ... up to a cap). While locked, login
attempts get 429 with Retry-After without the password being checked. A success clears the
account key (not the address key, so one good account does not whitewash a guessing address).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from backend.db.models import LoginThrottle
from backend.db.types import utcnow
from backend.settings import Settings


@dataclass(frozen=True)
class ThrottleKeys:
    account: str
    address: str


def keys_for(username: str, address: str) -> ThrottleKeys:
    def _key(kind: str, value: str) -> str:
        return kind + ":" + hashlib.sha256(value.encode("utf-8")).hexdigest()

    return ThrottleKeys(account=_key("account", username.lower()), address=_key("address", address))


async def retry_after_seconds(db: AsyncSession, keys: ThrottleKeys) -> int:
    """Seconds until the longer of the two locks ends; 0 when login may proceed."""
    now = utcnow()
    rows = await db.scalars(
        select(LoginThrottle.locked_until).where(
            LoginThrottle.key.in_((keys.account, keys.address))
        )
    )
    waits = [(until - now).total_seconds() for until in rows if until is not None and until > now]
    return math.ceil(max(waits)) if waits else 0


def _insert_for(db: AsyncSession) -> Callable[..., Any]:
    """The dialect's INSERT, which has ON CONFLICT DO UPDATE on both SQLite and PostgreSQL."""
    return postgresql.insert if db.bind.dialect.name == "postgresql" else sqlite.insert


async def record_failure(db: AsyncSession, keys: ThrottleKeys, settings: Settings) -> None:
    now = utcnow()
    window_start = now - timedelta(seconds=settings.login_failure_window_seconds)
    insert = _insert_for(db)
    for key, free in (
        (keys.account, settings.login_free_attempts_account),
        (keys.address, settings.login_free_attempts_address),
    ):
        statement = insert(LoginThrottle).values(key=key, failures=1, last_failure_at=now)
        # Failures older than the window no longer count: start again from one.
        statement = statement.on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "failures": _restart_or_increment(window_start),
                "last_failure_at": now,
            },
        )
        await db.execute(statement)
        failures = await db.scalar(select(LoginThrottle.failures).where(LoginThrottle.key == key))
        if failures is not None and failures > free:
            await db.execute(
                update(LoginThrottle)
                .where(LoginThrottle.key == key)
                .values(locked_until=now + _lock_delay(failures - free, settings))
            )


def _restart_or_increment(window_start: datetime) -> ColumnElement[int]:
    return case(
        (LoginThrottle.last_failure_at < window_start, 1),
        else_=LoginThrottle.failures + 1,
    )


def _lock_delay(excess: int, settings: Settings) -> timedelta:
    seconds = settings.login_lockout_base_seconds * 2 ** min(excess - 1, 20)
    return timedelta(seconds=min(seconds, settings.login_lockout_max_seconds))


async def clear_account(db: AsyncSession, keys: ThrottleKeys) -> None:
    await db.execute(delete(LoginThrottle).where(LoginThrottle.key == keys.account))
