"""Sign-in is one write transaction (pooldesk_server/accounts/signin.py): a failure in it leaves
nothing behind, and the throttle's decision is taken inside it, so parallel guesses through two
servers on one database get no more answers than the same guesses one at a time."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from pooldesk_server.accounts import throttle
from pooldesk_server.accounts.service import MAX_WAITING_PER_NAME
from pooldesk_server.db.engine import Database
from pooldesk_server.db.models import AuditEntry, KnownAddress, LoginThrottle, Session, User
from tests.backend.conftest import CLIENT_ADDRESS, AppClient, make_settings, open_client
from tests.backend.helpers import PASSWORD, register
from tests.backend.test_throttle_races import FREE_ACCOUNT, LONG_LOCK, statuses
from tests.support.waiting import assert_nothing_arrives

RIGHT = {"username": "testuser", "password": PASSWORD}
WRONG = {"username": "testuser", "password": "Wrong-Pass-123!"}


async def failures(db: AsyncSession) -> dict[str, int]:
    """The sign-in throttle's counts for testuser from the test client's address, by key."""
    keys = throttle.keys_for("testuser", CLIENT_ADDRESS)
    names = {keys.account: "account", keys.pair: "pair", keys.address: "address"}
    rows = await db.execute(
        select(LoginThrottle.key, LoginThrottle.failures).where(LoginThrottle.key.in_(names))
    )
    return {names[key]: count for key, count in rows}


def uncheck(client: AppClient) -> httpx.AsyncClient:
    """The same app without the contract hook: a 500 is not in /openapi.json, and is expected."""
    transport = httpx.ASGITransport(
        app=client.app, client=(CLIENT_ADDRESS, 40000), raise_app_exceptions=False
    )
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
def sqlite_file(sqlite_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "pooldesk.db"
    shutil.copyfile(sqlite_template, path)
    return path


async def run_sql(path: Path, statement: str) -> None:
    """One statement on the database file from another connection, in a thread: the app, on
    this event loop, may still be ending the request's transaction (its write lock), and a
    blocking call here would stop it from ever doing so while SQLite waits for that lock."""

    def run() -> None:
        with sqlite3.connect(path, timeout=30) as db:
            db.execute(statement)

    await asyncio.to_thread(run)


async def test_a_sign_in_that_fails_half_way_leaves_nothing_behind(sqlite_file, tmp_path):
    path = sqlite_file
    url = f"sqlite+aiosqlite:///{path}"
    async for client in open_client(make_settings(url, tmp_path)):
        await register(client)
        assert (await client.post("/api/auth/login", json=WRONG)).status_code == 401
        # The last statement of the sign-in's transaction fails (a real SQLite trigger): every
        # statement before it (throttle, known address, last login, session, refresh token)
        # must be undone with it.
        await run_sql(
            path,
            "CREATE TRIGGER refuse_sign_in BEFORE INSERT ON audit_log "
            "WHEN NEW.event = 'login' AND NEW.outcome = 'success' "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
        )
        async with uncheck(client) as plain:
            failed = await plain.post("/api/auth/login", json=RIGHT)
        assert failed.status_code == 500
        database = Database(url)
        try:
            async with database.read() as db:
                assert (await db.scalars(select(Session))).all() == []
                assert (await db.scalars(select(KnownAddress))).all() == []
                assert await db.scalar(select(User.last_login_at)) is None
                # The wrong password before it still counts, on each of its keys.
                assert await failures(db) == {"account": 1, "pair": 1, "address": 1}
                audit = await db.execute(
                    select(AuditEntry.event, AuditEntry.outcome).order_by(AuditEntry.id)
                )
                assert [tuple(row) for row in audit] == [
                    ("register", "success"),
                    ("login", "failure"),
                ]
        finally:
            await database.dispose()
        await run_sql(path, "DROP TRIGGER refuse_sign_in")
        signed_in = await client.post("/api/auth/login", json=RIGHT)
        assert signed_in.status_code == 200
        verify = {"Authorization": f"Bearer {signed_in.json()['token']}"}
        assert (await client.get("/api/auth/verify", headers=verify)).status_code == 200


async def test_parallel_wrong_logins_through_two_servers_are_throttled_as_one(
    database_url, tmp_path
):
    """Each server lets one sign-in per account name run at a time; across servers the write
    transaction decides, so the sum is still the free failures plus the one that locks."""
    settings = make_settings(database_url, tmp_path, **LONG_LOCK)
    async for one in open_client(settings):
        async for two in open_client(settings):
            await register(one)
            responses = await asyncio.gather(
                *(c.post("/api/auth/login", json=WRONG) for _ in range(15) for c in (one, two))
            )
            assert statuses(responses) == {401: FREE_ACCOUNT + 1, 429: 30 - FREE_ACCOUNT - 1}
            for client in (one, two):
                assert (await client.post("/api/auth/login", json=RIGHT)).status_code == 429


async def test_a_disabled_accounts_right_password_is_counted_and_audited(client, settings):
    account = await register(client)
    database = Database(settings.database_url)
    try:
        async with database.write() as db:
            await db.execute(
                User.__table__.update()
                .where(User.id == account.user_id)
                .values(disabled_at=User.created_at)
            )
        refused = await client.post("/api/auth/login", json=RIGHT)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "account_disabled"
        async with database.read() as db:
            assert (await db.scalars(select(Session))).all() == []
            entry = await db.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
            assert entry is not None
            assert (entry.event, entry.outcome) == ("login", "failure")
            assert '"reason":"account_disabled"' in entry.detail
            # Counted like a wrong password, except against the address.
            assert await failures(db) == {"account": 1, "pair": 1}
    finally:
        await database.dispose()


@pytest.mark.parametrize("workers", [1, 2])
async def test_a_flood_at_one_account_name_is_turned_away_not_queued_without_end(
    settings, workers: int
):
    """Sign-ins to one name take turns in a server; past 16 waiting, the next are told at once
    to come back (503 overloaded, Retry-After) instead of piling up in memory. A worker of
    `serve --workers 2` takes half of that: the server as a whole still queues 16."""
    waiting = MAX_WAITING_PER_NAME // workers
    async for client in open_client(settings.with_changes(workers=workers)):
        await register(client)
        responses = await asyncio.gather(
            *(client.post("/api/auth/login", json=WRONG) for _ in range(40))
        )
        turned_away = [r for r in responses if r.status_code == 503]
        assert len(turned_away) == 40 - waiting
        assert {r.json()["error"]["code"] for r in turned_away} == {"overloaded"}
        assert all(r.headers["retry-after"] for r in turned_away)
        assert statuses([r for r in responses if r.status_code != 503]) == {
            401: FREE_ACCOUNT + 1,
            429: waiting - FREE_ACCOUNT - 1,
        }


async def test_a_right_password_waits_for_a_lock_being_set_and_is_refused_by_it(client, settings):
    """Another server's wrong guess is setting the lock of this account and address right now
    (its transaction is open): a right password meanwhile must wait for it and then be refused,
    not slip through on what was committed before (PostgreSQL reads the rows FOR UPDATE;
    SQLite's writer waits for the write lock)."""
    await register(client)
    assert (await client.post("/api/auth/login", json=WRONG)).status_code == 401  # rows exist
    keys = throttle.keys_for("testuser", CLIENT_ADDRESS)
    database = Database(settings.database_url)
    try:
        async with database.write() as other_server:
            await other_server.execute(
                LoginThrottle.__table__.update()
                .where(LoginThrottle.key == keys.pair)
                .values(locked_until=datetime.now(UTC) + timedelta(seconds=60))
            )
            signing_in = asyncio.ensure_future(client.post("/api/auth/login", json=RIGHT))
            await assert_nothing_arrives(signing_in.done, 1.0, "an answer before the lock")
        answer = await signing_in
        assert answer.status_code == 429, answer.text
    finally:
        await database.dispose()
