"""Attempt throttling kept in the database, so every backend instance sharing it sees the same
counters: sign-ins and re-entered passwords (per account name and per client address),
registrations (per client address) and device claims (per user and per device).

Each key has a free allowance of attempts inside a window. Past it, every further attempt locks
the key for a delay that doubles (base, 2x base, 4x base ... up to a cap). While a key is locked,
attempts get 429 with Retry-After without the secret being checked.

An attempt is counted BEFORE the secret is checked, in one write transaction that also checks
the lock (`count_attempt`): the row lock of the upsert serialises parallel attempts on a key, so
a burst of parallel requests gets exactly as many checks as the same requests one at a time. An
attempt that turns out to be right is then forgiven (`forgive`): it no longer counts, and a lock
it started is lifted. Sign-in itself does the same in a single transaction after the check
(pooldesk_server/accounts/signin.py): the locks are checked again and a failure counted in the
transaction that settles the attempt, so the same number of guesses get an answer; a right
password is simply not counted. Each function has a Core form (`*_now`, on a connection) that
such one-transaction work runs, and an async form for an ORM session.

Sign-in (docs/backend.md, "Abuse and sign-in") has three keys:
- (account, address): counted before the check; the tight limit that stops one address from
  guessing one account's password;
- account, from every address: a looser limit against guesses spread over many addresses. It is
  neither checked nor counted for an address that signed in to the account before (`known`), so
  a stranger's failures cannot lock the owner out of the places they use;
- address, over every account: checked before, but counted only AFTER a failure. A right
  password never counts against its address, so many people behind one NAT or proxy signing in
  at the same moment are never refused; the price is that one burst of parallel guesses from an
  address (each at a different account, each limited by its own keys) is checked in full before
  the address lock starts.
IPv6 addresses are keyed by their /64 network: one host usually owns a whole /64.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, case, delete, null, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as OrmSession

from pooldesk_contract.refusals import Reason
from pooldesk_server.db.models import KnownAddress, LoginThrottle
from pooldesk_server.db.types import utcnow
from pooldesk_server.http.errors import ApiError
from pooldesk_server.http.forwarded import parse_address
from pooldesk_server.settings import Settings


@dataclass(frozen=True)
class Limit:
    """One throttle key and the failures it may have for free inside the window."""

    key: str
    free: int


@dataclass(frozen=True)
class CountedAttempt:
    """What `count_attempt` changed, so that `forgive` can take exactly that back."""

    limits: tuple[Limit, ...]
    # key -> the lock end this attempt set (None when it set none)
    locks_set: dict[str, datetime | None]


@dataclass(frozen=True)
class ThrottleKeys:
    account: str
    pair: str
    address: str


def hashed_key(kind: str, value: str) -> str:
    """`kind:` + SHA-256 of the value: no account name or address is stored in clear."""
    return kind + ":" + hashlib.sha256(value.encode("utf-8")).hexdigest()


def address_key(address: str) -> str:
    """What an address is throttled as: IPv4 as is, IPv6 by its /64 network (a host usually
    gets a whole /64 and can pick any address in it)."""
    parsed = parse_address(address)
    if parsed is None:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def account_key(username: str) -> str:
    """The account-wide key of a name (names differing only in case share it)."""
    return hashed_key("account", username.lower())


def keys_for(username: str, address: str) -> ThrottleKeys:
    name, where = username.lower(), address_key(address)
    return ThrottleKeys(
        account=account_key(username),
        pair=hashed_key("pair", name + "\n" + where),
        address=hashed_key("address", where),
    )


def login_limits(keys: ThrottleKeys, settings: Settings, *, known: bool) -> tuple[Limit, ...]:
    """The keys counted before a sign-in's password is checked (see the module docstring)."""
    pair = Limit(keys.pair, settings.login_free_attempts_pair)
    if known:
        return (pair,)
    # Always account before pair: one lock order for every caller (no deadlock on PostgreSQL).
    return (Limit(keys.account, settings.login_free_attempts_account), pair)


def address_limit(keys: ThrottleKeys, settings: Settings) -> Limit:
    return Limit(keys.address, settings.login_free_attempts_address)


def register_limits(address: str, settings: Settings) -> tuple[Limit, ...]:
    key = hashed_key("register", address_key(address))
    return (Limit(key, settings.register_free_attempts_address),)


def device_add_limits(user_id: str, settings: Settings) -> tuple[Limit, ...]:
    """Every device add by a signed-in user counts, right or wrong: ids cannot be squatted fast."""
    return (Limit(hashed_key("device-add", user_id), settings.device_add_free_attempts_user),)


def known_address_hash(settings: Settings, user_id: str, address: str) -> str:
    """HMAC of (user, address) under a key derived from JWT_SECRET: a database dump alone does not
    tell where a user signs in from. A new JWT_SECRET forgets every known address."""
    key = hashlib.sha256(b"pooldesk-known-address\0" + settings.jwt_secret.encode()).digest()
    message = (user_id + "\n" + address_key(address)).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _core(session: OrmSession) -> Connection:
    """The session's connection, with its pending objects flushed first (as an awaited
    `db.execute` would): the async helpers below run the Core functions on it."""
    session.flush()
    return session.connection()


async def is_known_address(
    db: AsyncSession, settings: Settings, user_id: str, address: str
) -> bool:
    row = await db.get(KnownAddress, (user_id, known_address_hash(settings, user_id, address)))
    return row is not None and row.last_success_at >= known_address_since(settings)


def known_address_since(settings: Settings) -> datetime:
    """A success since then makes an address known (`is_known_address`)."""
    return utcnow() - timedelta(days=settings.known_address_days)


async def remember_address(
    db: AsyncSession, settings: Settings, user_id: str, address: str
) -> None:
    await db.run_sync(
        lambda s: remember_address_now(_core(s), settings, user_id, address, utcnow())
    )


async def check_unlocked(db: AsyncSession, keys: Sequence[str]) -> None:
    """429 when any of the keys is locked; counts nothing."""
    await db.run_sync(lambda s: refuse_if_locked(_core(s), keys, utcnow()))


async def count_failure(db: AsyncSession, limit: Limit, settings: Settings) -> None:
    """Count a failure that has already happened (the key was checked, not counted, before)."""
    await db.run_sync(lambda s: count_failure_now(_core(s), limit, settings, utcnow()))


def claim_limits(user_id: str | None, device_id: str, settings: Settings) -> tuple[Limit, ...]:
    """Per user (when signed in) and per device: a guesser can neither try many codes on one
    device nor spread guesses over many devices."""
    device = Limit(hashed_key("claim-device", device_id), settings.claim_free_attempts_device)
    if user_id is None:
        return (device,)
    # User before device: one lock order for every caller.
    return (Limit(hashed_key("claim-user", user_id), settings.claim_free_attempts_user), device)


def rate_limited(
    wait: int, what: str = "failed attempts", reason: Reason = Reason.TOO_MANY_ATTEMPTS
) -> ApiError:
    """429 with the wait in `Retry-After`. The reason tells guesses (`too_many_attempts`) from
    a throttled action (`too_many_requests`); `what` only words the message."""
    return ApiError(
        429,
        "rate_limited",
        f"Too many {what}; try again in {wait} seconds",
        {"Retry-After": str(wait)},
        reason=reason,
    )


async def count_attempt(
    db: AsyncSession,
    limits: Sequence[Limit],
    settings: Settings,
    *,
    what: str = "failed attempts",
    reason: Reason = Reason.TOO_MANY_ATTEMPTS,
) -> CountedAttempt:
    """Count one attempt against every key, inside the caller's write transaction.

    Raises 429 when a key is locked; the caller's transaction then rolls back, so a refused
    attempt counts for nothing. Otherwise the caller commits, and only then checks the secret.
    """
    return await db.run_sync(
        lambda s: count_attempt_now(_core(s), limits, settings, utcnow(), what=what, reason=reason)
    )


async def forgive(db: AsyncSession, attempt: CountedAttempt, *, clear: Sequence[str] = ()) -> None:
    """The attempt was right: it no longer counts and a lock it started is lifted. Keys in
    `clear` are deleted outright (a successful sign-in clears its account's failures)."""
    await db.run_sync(lambda s: forgive_now(_core(s), attempt, clear=clear))


# -- the same on a Core connection (one write transaction run whole: Database.transaction) ------


def _insert_for(connection: Connection) -> Callable[..., Any]:
    """The dialect's INSERT, which has ON CONFLICT DO UPDATE on both SQLite and PostgreSQL."""
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


def remember_address_now(
    connection: Connection, settings: Settings, user_id: str, address: str, now: datetime
) -> None:
    statement = (
        _insert_for(connection)(KnownAddress)
        .values(
            user_id=user_id,
            address_hash=known_address_hash(settings, user_id, address),
            last_success_at=now,
        )
        .on_conflict_do_update(
            index_elements=[KnownAddress.user_id, KnownAddress.address_hash],
            set_={"last_success_at": now},
        )
    )
    connection.execute(statement)


# The keys among `:keys` locked at `:now`, with the time their lock ends.
LOCKED_KEYS = select(LoginThrottle.key, LoginThrottle.locked_until).where(
    LoginThrottle.key.in_(bindparam("keys", expanding=True)),
    LoginThrottle.locked_until > bindparam("now"),
)


def lock_waits(connection: Connection, keys: Sequence[str], now: datetime) -> dict[str, float]:
    """Seconds each locked key among `keys` stays locked (unlocked keys are left out)."""
    rows = connection.execute(LOCKED_KEYS, {"keys": list(keys), "now": now})
    return {key: (until - now).total_seconds() for key, until in rows if until is not None}


def refuse_if_locked(
    connection: Connection, keys: Sequence[str], now: datetime, what: str = "failed attempts"
) -> None:
    """429 when any of the keys is locked; counts nothing."""
    waits = lock_waits(connection, keys, now)
    if waits:
        raise rate_limited(max(1, math.ceil(max(waits.values()))), what)


def count_failure_now(
    connection: Connection, limit: Limit, settings: Settings, now: datetime
) -> None:
    failures, locked_until = _increment(connection, limit, settings, now)
    if failures > limit.free and (locked_until is None or locked_until <= now):
        _lock(connection, limit, now + _lock_delay(failures - limit.free, settings))


def count_attempt_now(
    connection: Connection,
    limits: Sequence[Limit],
    settings: Settings,
    now: datetime,
    *,
    what: str = "failed attempts",
    reason: Reason = Reason.TOO_MANY_ATTEMPTS,
) -> CountedAttempt:
    """`count_attempt` on a Core connection."""
    waits: list[float] = []
    locks_set: dict[str, datetime | None] = {}
    for limit in limits:
        failures, locked_until = _increment(connection, limit, settings, now)
        if locked_until is not None and locked_until > now:
            waits.append((locked_until - now).total_seconds())
            continue
        locks_set[limit.key] = None
        if failures > limit.free:
            until = now + _lock_delay(failures - limit.free, settings)
            _lock(connection, limit, until)
            locks_set[limit.key] = until
    if waits:
        raise rate_limited(max(1, math.ceil(max(waits))), what, reason)
    return CountedAttempt(tuple(limits), locks_set)


def forgive_now(
    connection: Connection, attempt: CountedAttempt, *, clear: Sequence[str] = ()
) -> None:
    """`forgive` on a Core connection."""
    for limit in attempt.limits:
        if limit.key in clear:
            clear_keys(connection, (limit.key,))
            continue
        values: dict[str, Any] = {
            "failures": case((LoginThrottle.failures > 0, LoginThrottle.failures - 1), else_=0)
        }
        lock_set = attempt.locks_set.get(limit.key)
        if lock_set is not None:
            # Lift our lock unless a later attempt has replaced it with its own.
            values["locked_until"] = case(
                (LoginThrottle.locked_until == lock_set, null()), else_=LoginThrottle.locked_until
            )
        connection.execute(
            update(LoginThrottle).where(LoginThrottle.key == limit.key).values(values)
        )


def clear_keys(connection: Connection, keys: Sequence[str]) -> None:
    connection.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))


def _increment(
    connection: Connection, limit: Limit, settings: Settings, now: datetime
) -> tuple[int, datetime | None]:
    window_start = now - timedelta(seconds=settings.login_failure_window_seconds)
    statement = (
        _insert_for(connection)(LoginThrottle)
        .values(key=limit.key, failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            # Attempts older than the window no longer count: start again from one.
            set_={"failures": _restart_or_increment(window_start), "last_failure_at": now},
        )
        .returning(LoginThrottle.failures, LoginThrottle.locked_until)
    )
    failures, locked_until = connection.execute(statement).one()
    return failures, locked_until


def _lock(connection: Connection, limit: Limit, until: datetime) -> None:
    connection.execute(
        update(LoginThrottle).where(LoginThrottle.key == limit.key).values(locked_until=until)
    )


def _restart_or_increment(window_start: datetime) -> ColumnElement[int]:
    return case(
        (LoginThrottle.last_failure_at < window_start, 1),
        else_=LoginThrottle.failures + 1,
    )


def _lock_delay(excess: int, settings: Settings) -> timedelta:
    seconds = settings.login_lockout_base_seconds * 2 ** min(excess - 1, 20)
    return timedelta(seconds=min(seconds, settings.login_lockout_max_seconds))
