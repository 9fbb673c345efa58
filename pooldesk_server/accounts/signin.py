"""Sign-in (POST /api/auth/login): reads, the password check, then ONE write transaction.

1. Read, without a transaction (on SQLite on the loop's own connection): the account, its first
   device, whether this address signed in to it before, and the locks of the throttle keys. A
   locked key is refused here (429), before any argon2 work.
2. argon2 in a worker thread (an unknown name is checked against a dummy hash).
3. One write transaction, run whole on the database's writer (`Database.transaction`: on SQLite a
   single hop to its thread), that settles the attempt:
   - the locks are checked again: a lock set meanwhile refuses (429) and the transaction counts
     nothing;
   - a wrong password counts against the (account, address) and account keys (throttle.py) and
     the address, with a `login` failure in the audit log;
   - a disabled account's right password counts the same way (not the address) and is audited
     with reason `account_disabled`;
   - a right password clears the (account, address) key, leaves the account key as it was (a
     right password never counts), remembers the address, stamps `last_login_at` (and a
     re-hashed password), and inserts the session, its first refresh token and the audit entry.
   An account disabled or deleted since step 1 is refused (403, 401) and nothing is written;
   any failure rolls the whole transaction back, so a half-signed-in session cannot exist.

Parallel guesses: the check in step 3 is what decides, so a burst of wrong passwords gets as many
answers other than 429 as the same guesses one at a time. Within this process, sign-ins to one
account name also take turns (`AccountService.login`), so that the guesses past a lock are refused
at step 1, before their argon2 work, as when every attempt was counted before its check.

MQTT logins are not issued here: the app asks GET /api/auth/mqtt-credentials afterwards
(pooldesk_server/broker/extension.py), which records, puts and confirms its own rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection, Row

from pooldesk_server.accounts import throttle
from pooldesk_server.audit.service import record_now
from pooldesk_server.db.engine import Database, Prepared
from pooldesk_server.db.models import (
    Device,
    KnownAddress,
    LoginThrottle,
    RefreshToken,
    Session,
    User,
)
from pooldesk_server.http.auth import account_disabled
from pooldesk_server.http.errors import ApiError, unauthorized
from pooldesk_server.settings import Settings

BAD_LOGIN = "Invalid username or password"

Verdict = Literal["wrong", "disabled", "right"]

_FIRST_DEVICE = (
    select(Device.device_id)
    .where(Device.user_id == User.id)
    .order_by(Device.created_at, Device.device_id)
    .limit(1)
    .scalar_subquery()
)
_ACCOUNT = Prepared(
    select(
        User.id,
        User.username,
        User.email,
        User.password_hash,
        User.disabled_at,
        _FIRST_DEVICE.label("device_id"),
    ).where(User.username == bindparam("name"))
)
_KNOWN = Prepared(
    select(KnownAddress.last_success_at).where(
        KnownAddress.user_id == bindparam("uid"), KnownAddress.address_hash == bindparam("hash")
    )
)


@dataclass(frozen=True)
class Candidate:
    """What step 1 found: the account (None for an unknown name) and the keys to count."""

    account: Row[Any] | None
    keys: throttle.ThrottleKeys
    limits: tuple[throttle.Limit, ...]


async def look_up(
    db: Database, settings: Settings, username: str, address: str, now: datetime
) -> Candidate:
    """Step 1; 429 when a key is locked."""
    keys = throttle.keys_for(username, address)
    rows = await db.fetch(_ACCOUNT, {"name": username})
    account = rows[0] if rows else None
    known = False
    if account is not None:
        address_hash = throttle.known_address_hash(settings, account.id, address)
        seen = await db.fetch(_KNOWN, {"uid": account.id, "hash": address_hash})
        known = bool(seen) and seen[0].last_success_at >= throttle.known_address_since(settings)
    limits = throttle.login_limits(keys, settings, known=known)
    waits = await db.fetch(throttle.LOCKED_KEYS, {"keys": _watched(keys, limits), "now": now})
    refusal = _refusal(keys, {row.key: row.locked_until for row in waits}, now)
    if refusal is not None:
        raise refusal
    return Candidate(account, keys, limits)


def _watched(keys: throttle.ThrottleKeys, limits: Sequence[throttle.Limit]) -> list[str]:
    """The keys whose lock refuses a sign-in: the address, and the keys it counts."""
    return [keys.address, *(limit.key for limit in limits)]


def _refusal(
    keys: throttle.ThrottleKeys, locked: dict[str, datetime | None], now: datetime
) -> ApiError | None:
    """429 naming the address's wait when it is locked, else the longest of the others."""
    waits = {k: (until - now).total_seconds() for k, until in locked.items() if until is not None}
    if not waits:
        return None
    wait = waits.get(keys.address, max(waits.values()))
    return throttle.rate_limited(max(1, math.ceil(wait)))


def _check_locks(connection: Connection, candidate: Candidate, now: datetime) -> None:
    keys = candidate.keys
    if connection.dialect.name == "postgresql":
        locked = _locks_held_still(connection, candidate, now)
    else:  # SQLite: the transaction began IMMEDIATE, no other writer can be half-way
        rows = connection.execute(
            throttle.LOCKED_KEYS, {"keys": _watched(keys, candidate.limits), "now": now}
        )
        locked = {row.key: row.locked_until for row in rows}
    refusal = _refusal(keys, locked, now)
    if refusal is not None:
        raise refusal


_ROW_FOR_UPDATE = (
    select(LoginThrottle.locked_until)
    .where(LoginThrottle.key == bindparam("key"))
    .with_for_update()
)


def _locks_held_still(
    connection: Connection, candidate: Candidate, now: datetime
) -> dict[str, datetime | None]:
    """PostgreSQL, several servers: each watched row is read FOR UPDATE, so a wrong guess on
    another server that is locking it right now is waited for and its lock seen (a plain read
    would miss it and let a right password through a lock set at the same moment). One row at a
    time in the counting order (the counted keys, then the address), as every writer of these
    rows takes them, so two transactions cannot wait on each other."""
    keys = candidate.keys
    locked: dict[str, datetime | None] = {}
    for key in [*(limit.key for limit in candidate.limits), keys.address]:
        until = connection.execute(_ROW_FOR_UPDATE, {"key": key}).scalar()
        if until is not None and until > now:
            locked[key] = until
    return locked


@dataclass(frozen=True)
class Refused:
    """Step 3 of a wrong password (or a disabled account's right one)."""

    candidate: Candidate
    verdict: Verdict
    audit: dict[str, Any]
    settings: Settings
    now: datetime

    def __call__(self, connection: Connection) -> None:
        _check_locks(connection, self.candidate, self.now)
        throttle.count_attempt_now(connection, self.candidate.limits, self.settings, self.now)
        if self.verdict == "wrong":  # the address counts failures only (throttle.py)
            address = throttle.address_limit(self.candidate.keys, self.settings)
            throttle.count_failure_now(connection, address, self.settings, self.now)
        record_now(connection, self.audit)


@dataclass(frozen=True)
class SignedIn:
    """Step 3 of a right password: every row of the new session in one transaction."""

    candidate: Candidate
    address: str
    session: dict[str, Any]
    refresh_token: dict[str, Any]
    audit: dict[str, Any]
    new_hash: str | None
    settings: Settings
    now: datetime

    def __call__(self, connection: Connection) -> None:
        account = self.candidate.account
        assert account is not None
        _check_locks(connection, self.candidate, self.now)
        values: dict[str, Any] = {"last_login_at": self.now}
        if self.new_hash is not None:
            values["password_hash"] = self.new_hash
        stamped = connection.execute(
            update(User)
            .where(User.id == account.id, User.disabled_at.is_(None))
            .values(values)
            .execution_options(synchronize_session=False)
        )
        if stamped.rowcount != 1:  # disabled or deleted since step 1
            exists = connection.execute(select(User.id).where(User.id == account.id)).first()
            raise account_disabled() if exists else unauthorized(BAD_LOGIN)
        throttle.clear_keys(connection, (self.candidate.keys.pair,))
        throttle.remember_address_now(connection, self.settings, account.id, self.address, self.now)
        connection.execute(insert(Session).values(self.session))
        connection.execute(insert(RefreshToken).values(self.refresh_token))
        record_now(connection, self.audit)
