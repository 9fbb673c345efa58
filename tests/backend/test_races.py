"""Concurrent requests: racing refreshes, simultaneous registrations."""

from __future__ import annotations

import asyncio

from tests.backend.helpers import PASSWORD, signed_in


async def test_two_racing_refreshes_cannot_both_win(client):
    account = await signed_in(client)
    for _ in range(3):
        results = await asyncio.gather(
            *(
                client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token})
                for _ in range(2)
            )
        )
        statuses = sorted(r.status_code for r in results)
        assert statuses == [200, 401], [r.text for r in results]
        # The loser presented a spent token: the family is revoked, winner included.
        winner = next(r for r in results if r.status_code == 200).json()
        follow = await client.post(
            "/api/auth/refresh", json={"refreshToken": winner["refreshToken"]}
        )
        assert follow.status_code == 401
        account = await signed_in(client, f"user{_}", device_id=f"ESP-00000{_}")


async def test_many_racing_refreshes_have_exactly_one_winner(client):
    account = await signed_in(client)
    results = await asyncio.gather(
        *(
            client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token})
            for _ in range(6)
        )
    )
    assert sum(r.status_code == 200 for r in results) == 1
    assert all(r.status_code in (200, 401) for r in results)


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
