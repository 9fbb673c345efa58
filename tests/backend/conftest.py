"""Backend fixtures. Every test that takes `database_url` (directly or through `client`) runs
twice: on SQLite and on a throw-away PostgreSQL cluster started for the session. When
PostgreSQL cannot start, its tests FAIL with the reason (they are never skipped)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from pooldesk_server.app import create_app
from pooldesk_server.db.engine import Database
from pooldesk_server.db.migrate import upgrade_to_head
from pooldesk_server.db.models import Base
from pooldesk_server.settings import Settings
from tests.backend.contract import ContractChecker, response_hook
from tests.backend.postgres import Cluster, PostgresUnavailable, postgres_cluster

PG_DATABASE = "pooldesk_test"
CLIENT_ADDRESS = "203.0.113.7"


async def _migrate(url: str) -> None:
    database = Database(url)
    try:
        await upgrade_to_head(database)
    finally:
        await database.dispose()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster | PostgresUnavailable]:
    """The cluster, or the reason it could not start (handed to the tests that need it)."""
    with ExitStack() as stack:
        try:
            cluster = stack.enter_context(postgres_cluster())
            cluster.psql("postgres", f"CREATE DATABASE {PG_DATABASE}")
            asyncio.run(_migrate(cluster.url(PG_DATABASE)))
        except PostgresUnavailable as exc:
            yield exc
            return
        yield cluster


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


TRUNCATE = "TRUNCATE {} RESTART IDENTITY CASCADE".format(
    ", ".join(table.name for table in Base.metadata.sorted_tables)
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    pg_cluster: Cluster | PostgresUnavailable,
) -> str:
    if request.param == "sqlite":
        path = tmp_path / "pooldesk.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    if isinstance(pg_cluster, PostgresUnavailable):
        pytest.fail(f"PostgreSQL test cluster unavailable: {pg_cluster}", pytrace=False)
    pg_cluster.psql(PG_DATABASE, TRUNCATE)
    return pg_cluster.url(PG_DATABASE)


def make_settings(database_url: str, data_dir: Path, **changes: object) -> Settings:
    """Test settings: cheap argon2 (production parameters are tested separately)."""
    base = Settings(
        data_dir=data_dir,
        database_url=database_url,
        jwt_secret="test-secret-" + "x" * 64,
        argon2_memory_kib=64,
        argon2_time_cost=1,
    )
    return base.with_changes(**changes)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


class AppClient(httpx.AsyncClient):
    app: object


async def open_client(settings: Settings, **kwargs: object) -> AsyncIterator[AppClient]:
    app = create_app(settings, **kwargs)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(CLIENT_ADDRESS, 40000))
        # Every answer is checked against the app's own /openapi.json (tests/backend/contract.py).
        hooks = {"response": [response_hook(ContractChecker(app.state.openapi))]}
        async with AppClient(
            transport=transport, base_url="http://testserver", event_hooks=hooks
        ) as client:
            client.app = app
            yield client


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AppClient]:
    async for c in open_client(settings):
        yield c
