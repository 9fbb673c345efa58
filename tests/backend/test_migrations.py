"""The shipped migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from pooldesk_server.db.engine import Database
from pooldesk_server.db.migrate import current_revision, head_revision, upgrade_to_head
from pooldesk_server.db.models import Base


async def test_migrated_schema_matches_the_models(database_url):
    database = Database(database_url)
    try:
        await upgrade_to_head(database)  # already at head: a no-op that must not fail
        assert await current_revision(database) == head_revision()
        async with database.reader.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
        assert differences == []
    finally:
        await database.dispose()


async def test_serve_refuses_an_unmigrated_database_when_auto_migrate_is_off(tmp_path):
    import pytest

    from pooldesk_server.app import SchemaOutOfDate, create_app
    from tests.backend.conftest import make_settings

    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", tmp_path)
    app = create_app(settings.with_changes(auto_migrate=False))
    with pytest.raises(SchemaOutOfDate, match="run `pooldesk-backend migrate` first"):
        async with app.router.lifespan_context(app):
            pass


async def test_upgrading_from_0001_keeps_mqtt_logins_and_adds_the_new_schema(tmp_path):
    """SQLite rebuilds a table to add a column: the rows must come through."""
    from alembic import command
    from sqlalchemy import text

    from pooldesk_server.db.migrate import alembic_config

    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        async with database.writer.begin() as connection:
            await connection.run_sync(
                lambda sync: command.upgrade(alembic_config(sync), "0001_initial")
            )
            await connection.execute(
                text(
                    "INSERT INTO mqtt_logins (id, mqtt_user, client_id, kind, created_at, "
                    "broker_state) VALUES ('1', 'app-x', 'app-x', 'session', "
                    "'2026-11-01 00:00:00', 'synced')"
                )
            )
        await upgrade_to_head(database)
        async with database.reader.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT mqtt_user, broker_state, password_hash FROM mqtt_logins")
                )
            ).all()
            retired = await connection.scalar(text("SELECT count(*) FROM retired_usernames"))
        assert [tuple(r) for r in rows] == [("app-x", "synced", None)]
        assert retired == 0
    finally:
        await database.dispose()
