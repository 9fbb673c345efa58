"""Who is calling: a user with an access JWT, or a device with its API key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from pooldesk_server.context import context_of
from pooldesk_server.db.models import Device, DeviceApiKey, Session, User
from pooldesk_server.db.types import utcnow
from pooldesk_server.http.errors import ApiError, unauthorized
from pooldesk_server.security.secrets_hashing import digest
from pooldesk_server.security.tokens import InvalidToken

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


async def require_user(request: Request, db: AsyncSession | None = None) -> UserAuth:
    """401 unless the request carries a valid access token of a live session.

    Pass the handler's read session as `db` to save opening a second one."""
    token = bearer_token(request)
    if token is None:
        raise unauthorized("Sign in first: send Authorization: Bearer <token>")
    ctx = context_of(request)
    try:
        claims = ctx.tokens.decode(token, "access")
    except InvalidToken:
        raise unauthorized("Invalid or expired token; sign in again") from None
    now = utcnow()
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
        async with ctx.db.write() as db:
            await db.execute(
                update(Session).where(Session.id == session.id).values(last_used_at=now)
            )
    return UserAuth(user=user, session_id=session.id)


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


async def require_user_or_device(request: Request, db: AsyncSession) -> UserAuth | DeviceAuth:
    api_key = request.headers.get("x-api-key")
    if api_key:
        return await device_from_api_key(db, api_key.strip())
    if bearer_token(request) is None:
        raise unauthorized("Send Authorization: Bearer <token> or X-API-Key: <device api key>")
    return await require_user(request, db)
