"""Putting a dashboard login's rights so that the broker ends with what the database says, even
when another process (a worker of `serve --workers N`, another `serve` on the database) puts
the same login at the same time.

The per-login lock (`BrokerState.locks`) orders puts inside one process only. Across processes
an issue (or a refresh) may read the rights, a share change commit, the other process's refresh
put the new rights, and the first put, slower, land last with the old ones. So every put of a
dashboard login's rights reads them again once the broker answered, and puts again while they
differ (`put_until_settled`). Whatever the interleaving, the put that lands last is followed by
its own read: a change committed before that read is put again by it, one committed after it
is put by the change's own refresh, whose read and put come later still. The broker thus ends
with the rights of the last change once both operations finished.

Not a database lock around read-and-put: it would hold a transaction open across a broker
round trip (on SQLite the one writer, stalling every write of every process for up to the
broker's timeout), and the share change itself would have to take it too. The re-read costs
one more read of the rights per put, and a second put only when a change raced it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pooldesk_server.broker.base import BrokerError

ROUNDS = 4  # puts of one login before giving up: a change every round means a storm of them

T = TypeVar("T")


class RightsUnsettled(BrokerError):
    """The rights changed again after every one of `ROUNDS` puts."""


async def put_until_settled(
    name: str, read: Callable[[], Awaitable[T | None]], put: Callable[[T], Awaitable[None]]
) -> None:
    """Put what `read` gives (a login's rights, with what else the put needs), then read again
    and put again while it changed meanwhile. `read` gives None when the login ended: nothing
    more is put (its deletion is someone else's work). Raises what `put` raises, or
    `RightsUnsettled` when the rights kept changing: the caller then ends the login or fails the
    issue, as for a broker that did not answer."""
    current = await read()
    for _ in range(ROUNDS):
        if current is None:
            return
        await put(current)
        latest = await read()
        if latest == current:
            return
        current = latest
    raise RightsUnsettled(f"the shares behind {name} changed {ROUNDS} times while it was put")
