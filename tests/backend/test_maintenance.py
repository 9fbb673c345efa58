"""Housekeeping purges ended sessions and stale throttle rows, and nothing live."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from pooldesk_server.db.models import LoginThrottle, RefreshToken, Session
from pooldesk_server.db.types import utcnow
from pooldesk_server.maintenance import purge
from tests.backend.helpers import login, signed_in


async def test_purge_removes_only_ended_sessions_and_stale_throttle_rows(client, settings):
    ctx = client.app.state.ctx
    live = await signed_in(client)
    expired = await login(client, type(live)(**{**live.__dict__}))
    revoked_long_ago = await login(client, type(live)(**{**live.__dict__}))
    revoked_recently = await login(client, type(live)(**{**live.__dict__}))
    await client.post("/api/auth/logout", headers=revoked_recently.auth)
    await client.post("/api/auth/login", json={"username": "ghost", "password": "x"})
    past = utcnow() - timedelta(days=8)
    async with ctx.db.write() as db:
        await db.execute(
            update(Session).where(Session.id == expired.session_id).values(expires_at=past)
        )
        await db.execute(
            update(Session)
            .where(Session.id == revoked_long_ago.session_id)
            .values(revoked_at=past, revoke_reason="logout")
        )
        await db.execute(update(LoginThrottle).values(last_failure_at=past))

    purged = await purge(ctx.db, failure_window_seconds=settings.login_failure_window_seconds)
    assert purged.sessions == 2
    # The failed login's account, (account, address) and address keys, and the registration's
    # address key (right passwords leave no row: they are not counted at all).
    assert purged.throttle_rows == 4
    async with ctx.db.read() as db:
        left = set((await db.scalars(select(Session.id))).all())
        tokens = await db.scalar(select(func.count()).select_from(RefreshToken))
    assert left == {live.session_id, revoked_recently.session_id}
    assert tokens == 2
    assert (await client.get("/api/auth/verify", headers=live.auth)).status_code == 200
