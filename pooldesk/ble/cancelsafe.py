"""Await a Bumble coroutine so that cancelling the caller always cancels the caller.

Bumble waits for HCI responses with ``asyncio.wait_for``, which on Python 3.11 swallows a
cancellation arriving in the same loop turn as the response: the cancelled task would carry on.
The call runs in its own task instead, awaited with ``asyncio.wait``. An HCI command is never
abandoned halfway (Bumble would pair its late response with the next command): on cancellation
the command finishes first, then the caller's cancellation goes on. Only waits that are not HCI
commands (a connection being established) may be cut short with ``interrupt=True``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


async def cancel_safe(coroutine: Coroutine[Any, Any, T], *, interrupt: bool = False) -> T:
    task = asyncio.ensure_future(coroutine)
    try:
        await asyncio.wait({task})
    except asyncio.CancelledError:
        if interrupt:
            task.cancel()
        await asyncio.wait({task})
        if not task.cancelled():
            task.exception()  # retrieved: the caller's cancellation is what matters now
        raise
    return task.result()
