"""Concurrent requests: racing refreshes, simultaneous registrations."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from pooldesk_server.db.models import RefreshToken
from tests.backend.helpers import PASSWORD, signed_in


async def test_racing_refreshes_all_get_the_same_successor_and_the_session_lives(client):
    """Two app windows (or a retry after a lost answer) refreshing with one token: exactly one
    rotation happens, every caller gets that same new pair, and the session goes on."""
    account = await signed_in(client)
    for round_ in range(3):
        results = await asyncio.gather(
            *(
                client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token})
                for _ in range(2 if round_ == 0 else 6)
            )
        )
        assert [r.status_code for r in results] == [200] * len(results), [r.text for r in results]
        pairs = {(r.json()["token"], r.json()["refreshToken"]) for r in results}
        assert len(pairs) == 1, "every racer gets the one successor"
        token, refresh_token = pairs.pop()
        assert refresh_token != account.refresh_token
        verify = await client.get("/api/auth/verify", headers={"Authorization": f"Bearer {token}"})
        assert verify.status_code == 200, "the winner's new tokens work"
        account.refresh_token = refresh_token
    async with client.app.state.ctx.db.read() as db:
        rows = await db.scalar(
            select(func.count())
            .select_from(RefreshToken)
            .where(RefreshToken.session_id == account.session_id)
        )
    assert rows == 4, "one rotation per round, not one per racer"


async def test_simultaneous_registrations_of_one_device_give_one_account(client):
    bodies = [
        {
            "username": f"racer{n}",
            "email": f"racer{n}@example.com",
            "password": PASSWORD,
            "deviceId": "ESP-ABCDEF",
        }
        for n in range(4)
    ]
    results = await asyncio.gather(*(client.post("/api/auth/register", json=b) for b in bodies))
    assert sorted(r.status_code for r in results) == [201, 409, 409, 409]
