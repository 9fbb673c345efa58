"""Production password hashing, no user enumeration by timing, nothing secret at rest."""

from __future__ import annotations

import statistics
import time

from sqlalchemy import select

from pooldesk_server.db.models import RefreshToken, User
from pooldesk_server.security.passwords import Passwords
from tests.backend.conftest import open_client
from tests.backend.helpers import PASSWORD, signed_in


async def test_production_settings_hash_with_owasp_argon2id(settings):
    production = settings.with_changes(argon2_memory_kib=19 * 1024, argon2_time_cost=2)
    assert (production.argon2_memory_kib, production.argon2_time_cost) == (
        type(settings).argon2_memory_kib,
        type(settings).argon2_time_cost,
    ), "the defaults are the OWASP minimum"
    async for client in open_client(production):
        account = await signed_in(client)
        ctx = client.app.state.ctx
        async with ctx.db.read() as db:
            stored = await db.scalar(select(User.password_hash))
            token_hashes = (await db.scalars(select(RefreshToken.token_hash))).all()
        assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert PASSWORD not in stored
        assert account.refresh_token not in token_hashes
        assert len(token_hashes[0]) == 64

        # Unknown user and wrong password cost about the same: both run argon2. The hash runs
        # in a thread of this process, so its CPU time is measured (other processes on a busy
        # machine stretch the wall clock, not this), and the two kinds take turns so that a
        # slow spell hurts both alike.
        async def cpu_cost(username: str, client=client) -> float:
            started = time.process_time()
            response = await client.post(
                "/api/auth/login", json={"username": username, "password": "Wrong-Pass-123!"}
            )
            assert response.status_code == 401
            return time.process_time() - started

        wrong: list[float] = []
        unknown: list[float] = []
        for n in range(6):
            wrong.append(await cpu_cost("testuser"))
            unknown.append(await cpu_cost(f"ghost{n}"))
        ratio = statistics.median(unknown) / statistics.median(wrong)
        assert 0.5 < ratio < 2.0, (wrong, unknown)
        assert statistics.median(unknown) > 0.005, "an unknown user must still cost a hash"


async def test_hashing_runs_off_the_event_loop():
    """While a hash runs in its thread, the loop keeps serving other work."""
    import asyncio

    passwords = Passwords(memory_kib=19 * 1024, time_cost=2, parallelism=1)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.gather(*(passwords.hash(PASSWORD) for _ in range(3)))
    task.cancel()
    assert ticks > 10


async def test_weaker_hashes_are_upgraded_at_the_next_login(settings):
    async for client in open_client(settings):  # cheap test parameters
        await signed_in(client)
    production = settings.with_changes(argon2_memory_kib=19 * 1024, argon2_time_cost=2)
    async for client in open_client(production):
        ctx = client.app.state.ctx
        async with ctx.db.read() as db:
            before = await db.scalar(select(User.password_hash))
        assert "m=64,t=1" in before
        response = await client.post(
            "/api/auth/login", json={"username": "testuser", "password": PASSWORD}
        )
        assert response.status_code == 200
        async with ctx.db.read() as db:
            after = await db.scalar(select(User.password_hash))
        assert after.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
