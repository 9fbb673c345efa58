"""argon2id password hashing, always run in a worker thread so the event loop stays free."""

from __future__ import annotations

import asyncio
import contextlib

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


class Passwords:
    def __init__(self, *, memory_kib: int, time_cost: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
        )
        # Checked against when the account does not exist, so that an unknown username
        # costs the same time as a wrong password.
        self._dummy_hash = self._hasher.hash("pooldesk-no-such-account")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self._verify, stored_hash, password)

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        if stored_hash is None:
            with contextlib.suppress(VerificationError):
                self._hasher.verify(self._dummy_hash, password)
            return False
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)
