"""Admission for expensive requests (sign-in: argon2 plus a write transaction; registration).

A crowd signing in at once must get slower, never fail: if all of them start at the same moment,
hundreds of transactions queue for a handful of database connections (and on SQLite for its one
write lock) while argon2 competes for the same two cores, and the last in line time out (a pool
timeout, SQLite's "database is locked") mid-way through a sign-in. Letting only a few run at once,
the rest waiting their turn in arrival order, keeps every admitted sign-in short and keeps the
connections free for everything else. Past `max_waiting` queued requests the server is overloaded
rather than busy: the next one gets 503 with Retry-After at once instead of waiting unboundedly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from pooldesk_server.cpus import usable_cpus
from pooldesk_server.http.errors import overloaded


def default_slots(workers: int = 1) -> int:
    """Two per core: one hashing while the other is in the database. Shared by the `workers`
    processes of `serve --workers N` (each gets its part, at least one): they hash on the same
    cores and, on SQLite, write through the same file lock."""
    return max(1, 2 * usable_cpus() // max(1, workers))


class Admission:
    def __init__(self, *, slots: int, max_waiting: int, retry_after_seconds: int = 2) -> None:
        self.slots, self.max_waiting = slots, max_waiting
        self._slots = asyncio.Semaphore(slots)
        self._waiting = 0
        self._retry_after = retry_after_seconds

    @property
    def waiting(self) -> int:
        return self._waiting

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for a free slot (FIFO), or 503 at once when too many already wait."""
        if self._slots.locked() and self._waiting >= self.max_waiting:
            raise overloaded(self._retry_after)
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._slots.release()
