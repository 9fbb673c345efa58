"""Who is calling: a user with an access JWT, or a device with its API key."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pooldesk_server.context import AppContext, context_of
from pooldesk_server.db.engine import Prepared
from pooldesk_server.db.models import Device, DeviceApiKey, Session, User
from pooldesk_server.db.types import utcnow
from pooldesk_server.http.errors import ApiError, unauthorized
from pooldesk_server.http.session_cache import CachedSession
from pooldesk_server.security.secrets_hashing import digest
from pooldesk_server.security.tokens import Claims, InvalidToken

TOUCH_INTERVAL = timedelta(seconds=60)
ACCOUNT_DISABLED = (
    "This account is disabled by the service's operator; contact them to have it enabled again"
)


def account_disabled(message: str = ACCOUNT_DISABLED) -> ApiError:
    return ApiError(403, "account_disabled", message)


@dataclass(frozen=True)
class UserAuth:
    user: User
    session_id: str


@dataclass(frozen=True)
class DeviceAuth:
    device: Device
    user: User


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def require_user(
    request: Request, db: AsyncSession | None = None, *, cached: bool = False
) -> UserAuth:
    """401 unless the request carries a valid access token of a live session.

    Pass the handler's read session as `db` to save opening a second one. `cached=True` (reads
    only) may answer from the session cache (pooldesk_server/http/session_cache.py says how long a
    revocation can take to be seen); its `user` then carries only id, username and email."""
    token = bearer_token(request)
    if token is None:
        raise unauthorized("Sign in first: send Authorization: Bearer <token>")
    ctx = context_of(request)
    use_cache = cached and ctx.session_cache.enabled
    claims = ctx.session_cache.checked_token(token) if use_cache else None
    if claims is None:
        try:
            claims = ctx.tokens.decode(token, "access")
        except InvalidToken:
            raise unauthorized("Invalid or expired token; sign in again") from None
        if use_cache:
            ctx.session_cache.remember_token(token, claims)
    now = utcnow()
    if use_cache:
        return await _cached_user(ctx, claims, now)
    query = (
        select(Session, User)
        .join(User, User.id == Session.user_id)
        .where(Session.id == claims.session_id, Session.user_id == claims.user_id)
    )
    if db is None:
        async with ctx.db.read() as own:
            row = (await own.execute(query)).first()
    else:
        row = (await db.execute(query)).first()
    if row is None:
        raise unauthorized("Invalid or expired token; sign in again")
    session, user = row
    if session.revoked_at is not None or session.expires_at <= now:
        raise unauthorized("This session has ended; sign in again")
    if user.disabled_at is not None:
        raise unauthorized(ACCOUNT_DISABLED)
    if now - session.last_used_at > TOUCH_INTERVAL:
        await _touch(ctx, session.id, now)
    return UserAuth(user=user, session_id=session.id)


async def _touch(ctx: AppContext, session_id: str, now: datetime) -> None:
    async with ctx.db.write() as db:
        await db.execute(update(Session).where(Session.id == session_id).values(last_used_at=now))


_SESSION_ROW = Prepared(
    select(
        Session.revoked_at,
        Session.expires_at,
        Session.last_used_at,
        User.username,
        User.email,
        User.disabled_at,
    )
    .join(User, User.id == Session.user_id)
    .where(Session.id == bindparam("sid"), Session.user_id == bindparam("uid"))
)


async def _cached_user(ctx: AppContext, claims: Claims, now: datetime) -> UserAuth:
    cache = ctx.session_cache
    entry = cache.get(claims.session_id, claims.user_id, now)
    if entry is None or now - entry.last_used_at > TOUCH_INTERVAL:
        epoch = cache.epoch
        # Stamped before the read: what it returns may already be this old, and the cache's
        # bound (a revocation on another worker refused within the TTL) counts from here.
        read_at = time.monotonic()
        params = {"sid": claims.session_id, "uid": claims.user_id}
        rows = await ctx.db.fetch(_SESSION_ROW, params)
        if not rows:
            raise unauthorized("Invalid or expired token; sign in again")
        row = rows[0]
        if row.revoked_at is not None or row.expires_at <= now:
            raise unauthorized("This session has ended; sign in again")
        if row.disabled_at is not None:
            raise unauthorized(ACCOUNT_DISABLED)
        last_used_at = row.last_used_at
        if now - last_used_at > TOUCH_INTERVAL:
            ctx.touches.touch(claims.session_id, now)  # not awaited: http/touches.py says why
            last_used_at = now
        entry = CachedSession(
            session_id=claims.session_id,
            user_id=claims.user_id,
            username=row.username,
            email=row.email,
            expires_at=row.expires_at,
            last_used_at=last_used_at,
            read_at=read_at,
            user=User(id=claims.user_id, username=row.username, email=row.email),
        )
        cache.put(entry, epoch)
    user = entry.user or User(id=entry.user_id, username=entry.username, email=entry.email)
    return UserAuth(user=user, session_id=entry.session_id)


async def device_from_api_key(db: AsyncSession, api_key: str) -> DeviceAuth:
    row = (
        await db.execute(
            select(Device, User)
            .join(DeviceApiKey, DeviceApiKey.device_pk == Device.id)
            .join(User, User.id == Device.user_id)
            .where(DeviceApiKey.key_hash == digest(api_key))
        )
    ).first()
    if row is None:
        raise unauthorized("Invalid API key")
    if row[1].disabled_at is not None:
        raise account_disabled("This device's account is disabled by the service's operator")
    return DeviceAuth(device=row[0], user=row[1])


async def require_user_or_device(
    request: Request, db: AsyncSession | None, *, cached: bool = False
) -> UserAuth | DeviceAuth:
    """`db` may be None only with `cached=True` and no API key (the caller checked)."""
    api_key = request.headers.get("x-api-key")
    if api_key:
        assert db is not None
        return await device_from_api_key(db, api_key.strip())
    if bearer_token(request) is None:
        raise unauthorized("Send Authorization: Bearer <token> or X-API-Key: <device api key>")
    return await require_user(request, db, cached=cached)
