"""The shipped migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from backend.db.engine import Database
from backend.db.migrate import current_revision, head_revision, upgrade_to_head
from backend.db.models import Base


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

    from backend.app import SchemaOutOfDate, create_app
    from tests.backend.conftest import make_settings

    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", tmp_path)
    app = create_app(settings.with_changes(auto_migrate=False))
    with pytest.raises(SchemaOutOfDate, match="run `pooldesk-backend migrate` first"):
        async with app.router.lifespan_context(app):
            pass
