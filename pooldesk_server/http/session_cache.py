"""A bounded in-process cache of live sessions, for the authenticated reads (verify, device list,
history, session list, audit).

Bounds, for a session that was revoked, expired or whose password changed:
- in this process: refused at once. The account services publish `SessionsEnded`,
  `PasswordChanged`, `DeviceUnbound`, `AccountDeleted` and `AccountDisabled` (the operator's
  `users disable`, carried out by a running server) after their commit; the cache drops
  the sessions (or every session of the user) before the request that ended them answers. A
  lookup that started before such a drop cannot put its (older) answer back: every drop bumps
  an epoch and a put from an earlier epoch is discarded.
- in another process on the same database: refused within `ttl` seconds
  (`POOLDESK_SESSION_CACHE_SECONDS`, default 2; 0 turns the cache off). No entry is used
  longer than that after it was read from the database.
- expiry: the session's own `expires_at`, and the access token's `exp`, are checked on every
  use of an entry.
The first device id shown by GET /api/auth/verify is kept the same way (dropped at once when
this process adds or removes one of the user's devices; another process's change shows within
`ttl`).
Writes (logout, password change, account deletion, device changes, credentials) never use it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from pooldesk_server.accounts.events import (
    AccountDeleted,
    AccountDisabled,
    AccountEvent,
    DeviceUnbound,
    PasswordChanged,
    SessionsEnded,
)
from pooldesk_server.db.models import User
from pooldesk_server.security.tokens import Claims


@dataclass(frozen=True)
class CachedSession:
    session_id: str
    user_id: str
    username: str
    email: str
    expires_at: datetime
    last_used_at: datetime
    read_at: float  # time.monotonic() when the database said this
    # The account as a detached, read-only User (id, username, email), built once per entry:
    # making an ORM object costs more than the rest of a cached check. Never add it to a session.
    user: User | None = field(default=None, compare=False)


class SessionCache:
    def __init__(self, ttl_seconds: float, max_entries: int = 20_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[str, CachedSession] = OrderedDict()
        # Access tokens whose signature and claims were checked: only `exp` is checked again.
        self._tokens: OrderedDict[str, Claims] = OrderedDict()
        # user id -> (first device id, monotonic time read): `deviceId` of GET /api/auth/verify.
        self._first_devices: dict[str, tuple[str | None, float]] = {}
        self._epoch = 0

    def checked_token(self, token: str) -> Claims | None:
        claims = self._tokens.get(token)
        if claims is not None and claims.expires <= time.time():
            del self._tokens[token]
            return None
        return claims

    def remember_token(self, token: str, claims: Claims) -> None:
        if not self.enabled:
            return
        self._tokens[token] = claims
        while len(self._tokens) > self.max_entries:
            self._tokens.popitem(last=False)

    def first_device(self, user_id: str) -> tuple[bool, str | None]:
        """(known, device id) of the user's first device."""
        known = self._first_devices.get(user_id)
        if known is None or time.monotonic() - known[1] >= self.ttl:
            return False, None
        return True, known[0]

    def put_first_device(self, user_id: str, device_id: str | None, epoch: int) -> None:
        if not self.enabled or epoch != self._epoch:
            return
        if len(self._first_devices) >= self.max_entries:
            self._first_devices.clear()
        self._first_devices[user_id] = (device_id, time.monotonic())

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    @property
    def epoch(self) -> int:
        """Take this before reading the database; pass it to `put`."""
        return self._epoch

    def get(self, session_id: str, user_id: str, now: datetime) -> CachedSession | None:
        entry = self._entries.get(session_id)
        if entry is None:
            return None
        if (
            entry.user_id != user_id
            or time.monotonic() - entry.read_at >= self.ttl
            or entry.expires_at <= now
        ):
            self._entries.pop(session_id, None)
            return None
        return entry

    def put(self, entry: CachedSession, epoch: int) -> None:
        if not self.enabled or epoch != self._epoch:
            return  # something was dropped since this was read: it may be that
        self._entries[entry.session_id] = entry
        self._entries.move_to_end(entry.session_id)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget_sessions(self, session_ids: tuple[str, ...] | list[str]) -> None:
        self._epoch += 1
        for session_id in session_ids:
            self._entries.pop(session_id, None)

    def forget_user(self, user_id: str) -> None:
        """Every session of the user, and what is kept about their devices."""
        self._epoch += 1
        self._first_devices.pop(user_id, None)
        for key in [k for k, e in self._entries.items() if e.user_id == user_id]:
            del self._entries[key]

    async def on_account_event(self, event: AccountEvent) -> None:
        if isinstance(event, SessionsEnded):
            self.forget_sessions(event.session_ids)
        elif isinstance(event, (PasswordChanged, AccountDeleted, AccountDisabled, DeviceUnbound)):
            self.forget_user(event.user_id)
