"""Accounts and sessions: register, login, refresh rotation, logout, sessions, password change,
export and deletion. Route handlers stay thin; the rules live here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pooldesk.core import api_types as api
from pooldesk_contract.refusals import Reason
from pooldesk_server.accounts import signin, throttle
from pooldesk_server.accounts.events import (
    AccountDeleted,
    PasswordChanged,
    RightsChanged,
    SessionEndReason,
    SessionsEnded,
)
from pooldesk_server.audit.service import entry_json, entry_values, record
from pooldesk_server.context import AppContext
from pooldesk_server.db import rows_changed
from pooldesk_server.db.models import (
    AuditEntry,
    Device,
    Event,
    MqttLogin,
    RefreshToken,
    RetiredUsername,
    Session,
    User,
)
from pooldesk_server.db.types import utcnow
from pooldesk_server.devices import service as devices
from pooldesk_server.http.auth import account_disabled
from pooldesk_server.http.errors import (
    ApiError,
    conflict,
    forbidden,
    overloaded,
    unauthorized,
    validation_error,
)
from pooldesk_server.security.password_policy import password_error
from pooldesk_server.security.secrets_hashing import digest, same_digest
from pooldesk_server.security.tokens import InvalidToken
from pooldesk_server.sharing.service import account_share_members
from pooldesk_server.sharing.service import listing as share_listing
from pooldesk_server.telemetry.service import stored_data
from pooldesk_server.timefmt import iso

BAD_LOGIN = signin.BAD_LOGIN
BAD_REFRESH = "Invalid or expired refresh token; sign in again"
# Sign-ins to one account name waiting their turn in the server; past it, 503 at once. Each of
# the N processes of `serve --workers N` takes its part (at least one).
MAX_WAITING_PER_NAME = 16
SIGN_IN_RETRY_AFTER_S = 2
# Access-token ids are derived from their refresh token's id, so a pair can be re-made.
ACCESS_JTI_NAMESPACE = uuid.UUID("5b0f5e0e-3c57-4e0b-9a51-7d0f2f6c1a42")


@dataclass(frozen=True)
class Client:
    address: str
    user_agent: str


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    session_id: str


def user_json(user: User, device_id: str | None) -> api.UserInfo:
    return api.UserInfo(id=user.id, username=user.username, email=user.email, device_id=device_id)


async def _check_available(db: AsyncSession, username: str) -> None:
    # Users before retired names: an account deleted between the two reads is seen by one of
    # them, because its name is retired in the deleting transaction.
    if await db.scalar(select(User.id).where(User.username == username)):
        raise conflict("Username already taken", reason=Reason.USERNAME_TAKEN)
    if await db.get(RetiredUsername, username) is not None:
        raise conflict(
            f"Username {username} is not available; choose another", reason=Reason.USERNAME_RETIRED
        )
    # The email is not checked: registration must not tell whether an address is in use
    # (docs/backend.md, "Abuse and sign-in"); nothing looks accounts up by email.


async def _retire_username(db: AsyncSession, username: str) -> None:
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    await db.execute(
        insert(RetiredUsername)
        .values(username=username, retired_at=utcnow())
        .on_conflict_do_nothing(index_elements=[RetiredUsername.username])
    )


class AccountService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    # -- registration -------------------------------------------------------------------------

    async def register(
        self,
        *,
        username: str,
        email: str,
        password: str,
        device_id: str | None,
        claim_code: str | None,
        client: Client,
    ) -> tuple[User, Device | None]:
        problem = password_error(password, username=username)
        if problem:
            raise validation_error(problem, reason=Reason.WEAK_PASSWORD)
        settings = self.ctx.settings
        # Counted before the argon2 hash; a locked address gets 429 (not audited: that would
        # let the throttle fill the log).
        async with self.ctx.db.write() as db:
            await throttle.count_attempt(
                db,
                throttle.register_limits(client.address, settings),
                settings,
                reason=Reason.TOO_MANY_REQUESTS,  # every sign-up counts, not only failed ones
            )
        password_hash = await self.ctx.passwords.hash(password)
        try:
            return await self._create_account(
                username, email, password_hash, device_id, claim_code, client
            )
        except ApiError as refused:
            if refused.code == "rate_limited":
                raise
            async with self.ctx.db.write() as db:
                record(
                    db,
                    event="register",
                    outcome="failure",
                    user_id=None,
                    client_address=client.address,
                    reason=refused.code,
                    deviceId=device_id,
                )
            raise

    async def _create_account(
        self,
        username: str,
        email: str,
        password_hash: str,
        device_id: str | None,
        claim_code: str | None,
        client: Client,
    ) -> tuple[User, Device | None]:
        device = None
        try:
            async with self.ctx.db.write() as db:
                await _check_available(db, username)
                refusal = None
                if device_id is not None:
                    refusal = await devices.claim_refusal(
                        db, device_id, claim_code, user_id=None, settings=self.ctx.settings
                    )
                # A wrong claim code leaves the block normally, so its counted guess is committed.
                if refusal is None:
                    if device_id is not None:
                        await devices.ensure_unowned(db, device_id, None)
                    user = User(
                        id=str(uuid.uuid4()),
                        username=username,
                        email=email,
                        password_hash=password_hash,
                        created_at=utcnow(),
                    )
                    db.add(user)
                    await db.flush()
                    if device_id is not None:
                        device = devices.new_device(user, device_id, None)
                        db.add(device)
                    record(
                        db,
                        event="register",
                        outcome="success",
                        user_id=user.id,
                        client_address=client.address,
                        deviceId=device_id,
                    )
        except IntegrityError:
            raise conflict(
                "Username or device was registered at the same moment; try again",
                reason=Reason.REGISTERED_MEANWHILE,
            ) from None
        if refusal is not None:
            raise refusal
        return user, device

    # -- login and tokens ---------------------------------------------------------------------

    async def login(
        self, username: str, password: str, client: Client
    ) -> tuple[TokenPair, api.UserInfo]:
        """Sign in: reads, argon2, then one write transaction (pooldesk_server/accounts/
        signin.py). Sign-ins to one account name take turns in this process (waiting outside
        the admission queue, so a burst at one account holds no slot the others need)."""
        ctx = self.ctx
        name = throttle.account_key(username)
        if ctx.sign_in_names.users(name) >= max(1, MAX_WAITING_PER_NAME // ctx.settings.workers):
            # A flood at one name would otherwise queue here without bound, unseen by the
            # admission queue's limit (it is entered after this turn).
            raise overloaded(SIGN_IN_RETRY_AFTER_S)
        async with (
            ctx.sign_in_names.hold(name),
            ctx.sign_ins.turn(),
        ):
            return await self._sign_in(username, password, client)

    async def _sign_in(
        self, username: str, password: str, client: Client
    ) -> tuple[TokenPair, api.UserInfo]:
        ctx, settings = self.ctx, self.ctx.settings
        found = await signin.look_up(ctx.db, settings, username, client.address, utcnow())
        account = found.account
        # An unknown user costs one argon2 verification too (against a dummy hash).
        valid = await ctx.passwords.verify(account.password_hash if account else None, password)
        if not valid or account is None or account.disabled_at is not None:
            verdict: signin.Verdict = "disabled" if valid and account is not None else "wrong"
            reason = {"reason": "account_disabled"} if verdict == "disabled" else {}
            audit = entry_values(
                "login", "failure", account.id if account else None, client.address, **reason
            )
            await ctx.db.transaction(signin.Refused(found, verdict, audit, settings, utcnow()))
            # Told only to someone who knows the password.
            raise account_disabled() if verdict == "disabled" else unauthorized(BAD_LOGIN)
        new_hash = None
        if ctx.passwords.needs_rehash(account.password_hash):
            new_hash = await ctx.passwords.hash(password)
        now = utcnow()
        session_id = str(uuid.uuid4())
        pair, token_row = self._new_pair(account.id, session_id)
        session_row = {
            "id": session_id,
            "user_id": account.id,
            "created_at": now,
            "last_used_at": now,
            "expires_at": now + timedelta(seconds=settings.refresh_token_seconds),
            "user_agent": client.user_agent[:256],
            "client_address": client.address[:64],
        }
        audit = entry_values("login", "success", account.id, client.address, sessionId=session_id)
        await ctx.db.transaction(
            signin.SignedIn(
                found, client.address, session_row, token_row, audit, new_hash, settings, now
            )
        )
        user = api.UserInfo(
            id=account.id,
            username=account.username,
            email=account.email,
            device_id=account.device_id,
        )
        return pair, user

    async def _count_sign_in(
        self, db: AsyncSession, keys: throttle.ThrottleKeys, user: User | None, client: Client
    ) -> throttle.CountedAttempt:
        """Refuse (429) or count a re-entered password (password change, account deletion)
        before it is checked, in the caller's write transaction: parallel guesses cannot all
        pass a lock check made before any of them was counted. An address that signed in to
        this account before skips the account-wide key (throttle.py explains the keys)."""
        settings = self.ctx.settings
        known = user is not None and await throttle.is_known_address(
            db, settings, user.id, client.address
        )
        await throttle.check_unlocked(db, (keys.address,))
        return await throttle.count_attempt(
            db, throttle.login_limits(keys, settings, known=known), settings
        )

    async def _count_address_failure(self, db: AsyncSession, keys: throttle.ThrottleKeys) -> None:
        await throttle.count_failure(
            db, throttle.address_limit(keys, self.ctx.settings), self.ctx.settings
        )

    async def _signed_in(
        self,
        db: AsyncSession,
        attempt: throttle.CountedAttempt,
        keys: throttle.ThrottleKeys,
        user: User,
        client: Client,
    ) -> None:
        """A right password: the attempt no longer counts, the (account, address) failures are
        cleared, and the address is remembered as one this account signs in from."""
        await throttle.forgive(db, attempt, clear=(keys.pair,))
        await throttle.remember_address(db, self.ctx.settings, user.id, client.address)

    def _mint_pair(
        self, user_id: str, session_id: str, refresh_jti: str, issued_at: datetime
    ) -> tuple[TokenPair, str]:
        """The pair for a refresh token id and time, the same every time it is asked for (the
        access token's id is derived from the refresh token's). Returns the refresh token's hash
        too."""
        tokens = self.ctx.tokens
        refresh = tokens.issue("refresh", user_id, session_id, jti=refresh_jti, issued_at=issued_at)
        access_jti = str(uuid.uuid5(ACCESS_JTI_NAMESPACE, refresh_jti))
        access = tokens.issue("access", user_id, session_id, jti=access_jti, issued_at=issued_at)
        return TokenPair(access.token, refresh.token, session_id), digest(refresh.token)

    def _new_pair(self, user_id: str, session_id: str) -> tuple[TokenPair, dict[str, Any]]:
        """A new pair and the row that stores its refresh token (as a hash)."""
        issued_at = utcnow().replace(microsecond=0)
        jti = str(uuid.uuid4())
        pair, token_hash = self._mint_pair(user_id, session_id, jti, issued_at)
        row = {
            "id": jti,
            "session_id": session_id,
            "token_hash": token_hash,
            "created_at": issued_at,
            "expires_at": issued_at + timedelta(seconds=self.ctx.tokens.refresh_seconds),
        }
        return pair, row

    def _issue_pair(self, db: AsyncSession, user_id: str, session_id: str) -> tuple[TokenPair, str]:
        """A new pair, its refresh token stored as a hash; returns the refresh token's id."""
        pair, row = self._new_pair(user_id, session_id)
        db.add(RefreshToken(**row))
        return pair, row["id"]

    async def refresh(self, refresh_token: str, client: Client) -> TokenPair:
        """Rotate: the token is spent by a conditional UPDATE, so of two racing calls with the
        same token exactly one rotates. The others (or a retry after a lost answer) get that same
        successor pair while the token was spent less than the grace window ago; after it, a
        spent token ends the whole session (family)."""
        try:
            claims = self.ctx.tokens.decode(refresh_token, "refresh")
        except InvalidToken:
            raise unauthorized(BAD_REFRESH) from None
        token_hash = digest(refresh_token)
        now = utcnow()
        async with self.ctx.db.write() as db:
            spent = await db.execute(
                update(RefreshToken)
                .where(
                    RefreshToken.token_hash == token_hash,
                    RefreshToken.session_id == claims.session_id,
                    RefreshToken.used_at.is_(None),
                )
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            )
            if rows_changed(spent) == 1:
                session = await db.get(Session, claims.session_id)
                if session is None or session.revoked_at is not None or session.expires_at <= now:
                    raise unauthorized("This session has ended; sign in again")
                if await db.scalar(select(User.disabled_at).where(User.id == session.user_id)):
                    raise account_disabled()
                session.last_used_at = now
                # Sliding session: it lives as long as its newest refresh token.
                session.expires_at = now + timedelta(
                    seconds=self.ctx.settings.refresh_token_seconds
                )
                pair, successor = self._issue_pair(db, claims.user_id, session.id)
                await db.execute(
                    update(RefreshToken)
                    .where(RefreshToken.token_hash == token_hash)
                    .values(successor_id=successor)
                    .execution_options(synchronize_session=False)
                )
                record(
                    db,
                    event="refresh",
                    outcome="success",
                    user_id=claims.user_id,
                    client_address=client.address,
                    sessionId=session.id,
                )
                return pair
            again = await self._successor_within_grace(db, token_hash, claims.user_id, now)
            if again is not None:
                record(
                    db,
                    event="refresh",
                    outcome="success",
                    user_id=claims.user_id,
                    client_address=client.address,
                    sessionId=claims.session_id,
                    repeated=True,
                )
                return again
        await self._handle_refresh_reuse(token_hash, client)
        raise unauthorized(BAD_REFRESH)

    async def _successor_within_grace(
        self, db: AsyncSession, token_hash: str, user_id: str, now: datetime
    ) -> TokenPair | None:
        """The pair that replaced a token spent less than the grace window ago, re-made from the
        successor's row (id and time) and checked against its stored hash; None otherwise."""
        grace = timedelta(seconds=self.ctx.settings.refresh_grace_seconds)
        row = (
            await db.execute(
                select(RefreshToken, Session)
                .join(Session, Session.id == RefreshToken.session_id)
                .where(RefreshToken.token_hash == token_hash)
            )
        ).first()
        if row is None:
            return None
        spent, session = row
        if (
            spent.successor_id is None
            or spent.used_at is None
            or now - spent.used_at > grace
            or session.revoked_at is not None
            or session.expires_at <= now
        ):
            return None
        successor = await db.get(RefreshToken, spent.successor_id)
        if successor is None:
            return None
        pair, successor_hash = self._mint_pair(
            user_id, session.id, successor.id, successor.created_at
        )
        # A new JWT_SECRET (or token lifetime) since then makes another token: not the successor.
        return pair if same_digest(successor_hash, successor.token_hash) else None

    async def _handle_refresh_reuse(self, token_hash: str, client: Client) -> None:
        async with self.ctx.db.write() as db:
            known = await db.scalar(
                select(RefreshToken).where(RefreshToken.token_hash == token_hash)
            )
            if known is None:
                return
            session = await db.get(Session, known.session_id)
            if session is None or session.revoked_at is not None:
                return
            user = await db.get(User, session.user_id)
            mqtt_users = await self._revoke(db, [session.id], "refresh_reuse")
            record(
                db,
                event="refresh_reuse",
                outcome="failure",
                user_id=session.user_id,
                client_address=client.address,
                sessionId=session.id,
            )
        if user is not None:
            await self.ctx.events.publish(
                SessionsEnded(user.id, user.username, (session.id,), "refresh_reuse", mqtt_users)
            )

    async def _revoke(
        self, db: AsyncSession, session_ids: list[str], reason: SessionEndReason
    ) -> tuple[str, ...]:
        if not session_ids:
            return ()
        now = utcnow()
        await db.execute(
            update(Session)
            .where(Session.id.in_(session_ids), Session.revoked_at.is_(None))
            .values(revoked_at=now, revoke_reason=reason)
            .execution_options(synchronize_session=False)
        )
        return await devices.mark_mqtt_logins_pending_delete(
            db, MqttLogin.session_id.in_(session_ids)
        )

    # -- sessions -----------------------------------------------------------------------------

    async def end_sessions(
        self, user: User, session_ids: list[str], reason: SessionEndReason, client: Client
    ) -> None:
        async with self.ctx.db.write() as db:
            mqtt_users = await self._revoke(db, session_ids, reason)
            record(
                db,
                event="logout" if reason == "logout" else "session_end",
                outcome="success",
                user_id=user.id,
                client_address=client.address,
                sessionIds=session_ids,
            )
        await self.ctx.events.publish(
            SessionsEnded(user.id, user.username, tuple(session_ids), reason, mqtt_users)
        )

    async def live_sessions(self, user_id: str) -> list[Session]:
        async with self.ctx.db.read() as db:
            query = (
                select(Session)
                .where(
                    Session.user_id == user_id,
                    Session.revoked_at.is_(None),
                    Session.expires_at > utcnow(),
                )
                .order_by(Session.created_at.desc())
            )
            return list((await db.scalars(query)).all())

    # -- password -----------------------------------------------------------------------------

    async def _check_password_again(self, user: User, password: str, client: Client) -> None:
        """Re-entered password for a sensitive action; throttled like logins."""
        keys = throttle.keys_for(user.username, client.address)
        async with self.ctx.db.write() as db:
            attempt = await self._count_sign_in(db, keys, user, client)
        if not await self.ctx.passwords.verify(user.password_hash, password):
            async with self.ctx.db.write() as db:
                await self._count_address_failure(db, keys)
            raise forbidden("Current password is incorrect", reason=Reason.WRONG_PASSWORD)
        async with self.ctx.db.write() as db:
            await self._signed_in(db, attempt, keys, user, client)

    async def change_password(
        self, user: User, current_session_id: str, current: str, new: str, client: Client
    ) -> None:
        await self._check_password_again(user, current, client)
        problem = password_error(new, username=user.username)
        if problem:
            raise validation_error(problem, reason=Reason.WEAK_PASSWORD)
        if new == current:
            raise validation_error(
                "New password must differ from the current one", reason=Reason.SAME_PASSWORD
            )
        new_hash = await self.ctx.passwords.hash(new)
        async with self.ctx.db.write() as db:
            await db.execute(update(User).where(User.id == user.id).values(password_hash=new_hash))
            others = list(
                (
                    await db.scalars(
                        select(Session.id).where(
                            Session.user_id == user.id,
                            Session.id != current_session_id,
                            Session.revoked_at.is_(None),
                        )
                    )
                ).all()
            )
            ended_logins = await self._revoke(db, others, "password_changed")
            # Also session logins whose session is already gone (purged, or never tied to a
            # live one): none may outlive the old password except the current session's.
            stray_logins = await devices.mark_mqtt_logins_pending_delete(
                db,
                MqttLogin.user_id == user.id,
                MqttLogin.kind == "session",
                or_(MqttLogin.session_id.is_(None), MqttLogin.session_id != current_session_id),
            )
            mqtt_users = tuple(sorted(set(ended_logins) | set(stray_logins)))
            record(
                db,
                event="password_change",
                outcome="success",
                user_id=user.id,
                client_address=client.address,
                endedSessions=len(others),
            )
        if others or mqtt_users:
            await self.ctx.events.publish(
                SessionsEnded(user.id, user.username, tuple(others), "password_changed", mqtt_users)
            )
        await self.ctx.events.publish(PasswordChanged(user.id, user.username, current_session_id))

    # -- account ------------------------------------------------------------------------------

    async def export(self, user: User, client: Client) -> dict[str, Any]:
        async with self.ctx.db.write() as db:
            record(
                db,
                event="account_export",
                outcome="success",
                user_id=user.id,
                client_address=client.address,
            )
        # Read outside the write transaction: a large history must not hold the write lock.
        async with self.ctx.db.read() as db:
            owned = await devices.devices_of(db, user.id)
            sessions = (await db.scalars(select(Session).where(Session.user_id == user.id))).all()
            history: dict[str, list[dict[str, Any]]] = {}
            for device in owned:
                rows = await db.execute(
                    select(Event.type, Event.ts, Event.data)
                    .where(Event.device_pk == device.id)
                    .order_by(Event.ts, Event.id)
                )
                history[device.device_id] = [
                    {"type": row.type, "ts": iso(row.ts), "data": stored_data(row.data)}
                    for row in rows
                ]
            audit = (
                await db.scalars(
                    select(AuditEntry).where(AuditEntry.user_id == user.id).order_by(AuditEntry.id)
                )
            ).all()
            credentials = await devices.credential_metadata(db, user.id)  # no secrets
            shares = await share_listing(db, user.id)  # {given, received}
        return {
            "exportedAt": iso(utcnow()),
            "user": {
                "id": user.id,
                "username": user.username,
                "email": user.email,
                "createdAt": iso(user.created_at),
                "lastLoginAt": iso(user.last_login_at),
            },
            "devices": [devices.device_json(d) for d in owned],
            "history": history,
            "sessions": [
                {
                    "id": s.id,
                    "createdAt": iso(s.created_at),
                    "lastUsedAt": iso(s.last_used_at),
                    "expiresAt": iso(s.expires_at),
                    "revokedAt": iso(s.revoked_at),
                    "userAgent": s.user_agent,
                    "clientAddress": s.client_address,
                }
                for s in sessions
            ],
            "audit": [entry_json(a) for a in audit],
            "shares": {"given": shares.given, "received": shares.received},
            **credentials,
        }

    async def delete_account(self, user: User, password: str, client: Client) -> None:
        await self._check_password_again(user, password, client)
        async with self.ctx.db.write() as db:
            device_ids = tuple(
                (await db.scalars(select(Device.device_id).where(Device.user_id == user.id))).all()
            )
            mqtt_users = await devices.mark_mqtt_logins_pending_delete(
                db, MqttLogin.user_id == user.id
            )
            # Its shares, given and received, go with it (foreign keys cascade); the members
            # it shared with lose those rights at the broker too.
            members = await account_share_members(db, user.id)
            await db.execute(delete(User).where(User.id == user.id))
            # The name is never given out again: retained MQTT messages, rights or links
            # addressed to it must not reach a newcomer.
            await _retire_username(db, user.username)
            record(
                db,
                event="account_delete",
                outcome="success",
                user_id=None,
                client_address=client.address,
                userId=user.id,
                devices=len(device_ids),
            )
        await self.ctx.events.publish(
            AccountDeleted(user.id, user.username, device_ids, mqtt_users)
        )
        if members:
            await self.ctx.events.publish(RightsChanged(tuple(members)))
