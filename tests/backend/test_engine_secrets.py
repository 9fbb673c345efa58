"""The database's errors never carry the values of the statement that failed: a sign-in that
fails in its transaction would otherwise put password and refresh-token hashes into the
operator's log (pooldesk_server/db/engine.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pooldesk_server.db.engine import Database

SECRET = "$argon2id$v=19$m=19456,t=2,p=1$c2VjcmV0LXNhbHQ$not-for-any-log"


async def test_a_failed_statement_does_not_show_its_values(database_url: str) -> None:
    database = Database(database_url)
    try:
        with pytest.raises(DBAPIError) as failed:
            async with database.write() as db:
                # no such column: the statement fails with the secret among its parameters
                await db.execute(
                    text("UPDATE users SET no_such_column = :hash WHERE id = :id"),
                    {"hash": SECRET, "id": "nobody"},
                )
        assert SECRET not in str(failed.value)
        assert "hidden due to hide_parameters" in str(failed.value)
    finally:
        await database.dispose()
