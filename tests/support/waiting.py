"""Waiting in tests without fixed sleeps: poll a condition with a deadline, or state explicitly
that a window of time must pass with nothing happening."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable

POLL_S = 0.02


async def _holds(predicate: Callable[[], object]) -> object:
    value = predicate()
    if inspect.isawaitable(value):
        value = await value
    return value


async def wait_until(predicate: Callable[[], object], within: float = 10.0, what: str = "") -> None:
    """Poll on the running loop (so Qt, MQTT and servers keep working) until predicate() is
    truthy; the predicate may be a coroutine function. Fails after `within` seconds."""
    deadline = time.monotonic() + within
    while not await _holds(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what or predicate}")
        await asyncio.sleep(POLL_S)


async def assert_nothing_arrives(
    arrived: Callable[[], object], within: float, what: str = "anything"
) -> None:
    """The behaviour under test is an absence ("no message is delivered", "no second command is
    sent"): no event can end this wait early, so it watches for the whole window and fails as
    soon as `arrived()` turns truthy. The window is the claim being tested, not a settling delay."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await _holds(arrived):
            raise AssertionError(f"{what} arrived within {within}s, expected nothing")
        await asyncio.sleep(POLL_S)
    if await _holds(arrived):
        raise AssertionError(f"{what} arrived within {within}s, expected nothing")
