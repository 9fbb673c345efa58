"""Alembic migrations shipped inside the package, run against the configured database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from pooldesk_server.db.engine import Database

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade_to_head(database: Database) -> None:
    """Apply every pending migration in one transaction (PostgreSQL) or one lock (SQLite)."""

    def _upgrade(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), "head")

    async with database.writer.begin() as connection:
        await connection.run_sync(_upgrade)


async def current_revision(database: Database) -> str | None:
    def _current(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with database.reader.connect() as connection:
        return await connection.run_sync(_current)
