"""Async engines and transactions.

SQLite allows one writer at a time. A transaction that starts with a read and later writes can
fail at once with "database is locked" when another writer got there first, so on SQLite writes
go through a second engine whose transactions begin with `BEGIN IMMEDIATE` (they wait for the
lock, up to the busy timeout) while reads run in autocommit, which WAL lets run beside a writer.
Read sessions must therefore never write. PostgreSQL uses one engine for both.

Every engine hides statement parameters from its errors (`hide_parameters`): a failed sign-in
would otherwise put password and refresh-token hashes into the operator's log.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, Row, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import Executable, Select

log = logging.getLogger("pooldesk_server.db")

SQLITE_BUSY_TIMEOUT_MS = 15_000
T = TypeVar("T")


def protect_sqlite_file(database: str) -> None:
    """The database holds password hashes and device history: its folder is made 0700 when
    created here, and the file (with its WAL and shared-memory files, which SQLite creates with
    the file's mode) is 0600, however the app was started."""
    path = Path(database)
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if candidate.exists() and candidate.stat().st_mode & 0o077:
                candidate.chmod(0o600)
        except PermissionError:
            log.warning("cannot make %s private (mode 0600): not its owner", candidate)


def _sqlite_engine(url: str, *, immediate: bool) -> AsyncEngine:
    engine = create_async_engine(
        url, pool_size=8, max_overflow=8, pool_timeout=30, hide_parameters=True
    )

    _configure_sqlite(engine.sync_engine, immediate=immediate)
    return engine


def _configure_sqlite(engine: Engine, *, immediate: bool) -> None:
    """The pragmas every read-write SQLite connection gets, and how its transactions begin."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Deleted rows (a deleted account's history, hashes) are overwritten with zeros, not
        # left readable in free pages of the file.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Reads run in autocommit (each statement sees the latest commit): one round trip to
        # aiosqlite's thread less per request, and no read transaction pinning the WAL.
        if immediate:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engines(url: str) -> tuple[AsyncEngine, AsyncEngine]:
    """(reader, writer) engines for the URL; the same engine twice on PostgreSQL."""
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            protect_sqlite_file(database)
        return _sqlite_engine(url, immediate=False), _sqlite_engine(url, immediate=True)
    engine = create_async_engine(
        url, pool_size=20, max_overflow=20, pool_pre_ping=True, hide_parameters=True
    )
    return engine, engine


class Prepared:
    """A constant Core SELECT of a hot read path (module-level, with named bind parameters).

    On the loop's SQLite connection it is compiled once and then run on the driver directly:
    SQLAlchemy's per-execution work (compiled-cache lookup, parameter construction, result
    set-up) was ~60 % of the device list's handler. Its rows are named tuples with the same
    attribute names and the same Python values (the column types' result processing is kept).
    Elsewhere it runs as the plain statement."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement


class _Plan:
    """What running a Prepared statement on SQLite needs, worked out once."""

    def __init__(self, prepared: Prepared, dialect: Any) -> None:
        compiled = prepared.statement.compile(dialect=dialect)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("a statement with parameters rendered per execution")
        self.compiled = compiled
        self.sql = compiled.string
        self.positions = tuple(compiled.positiontup or ())
        binds = {name: compiled.binds[name] for name in self.positions}
        if any(bind.callable is not None for bind in binds.values()):
            raise ValueError("a statement with a bind parameter computed per execution")
        # The constants (a LIMIT 1, a literal status), so a call only adds its own values:
        # SQLAlchemy's construct_params() per execution was a tenth of the device list's time.
        self.required = frozenset(name for name, bind in binds.items() if bind.required)
        self.fixed = {name: bind.value for name, bind in binds.items() if not bind.required}
        processors: Mapping[str, Any] = compiled._bind_processors
        self.binds = tuple((name, processors.get(name)) for name in self.positions)
        columns = compiled._result_columns
        self.row: Any = namedtuple("Row", [column.keyname for column in columns])  # type: ignore[misc]
        self.results = tuple(
            column.type._cached_result_processor(dialect, None) for column in columns
        )
        self.plain = not any(self.results)  # the driver's values as they are (a history page)

    def run(self, connection: Any, params: Mapping[str, Any]) -> list[Any]:
        missing = self.required.difference(params)
        if missing:
            raise ValueError(f"no value for the bind parameters {sorted(missing)}")
        values = self.fixed | dict(params)
        args = [bind(values[name]) if bind else values[name] for name, bind in self.binds]
        cursor = connection.cursor()
        try:
            raw = cursor.execute(self.sql, args).fetchall()
        finally:
            cursor.close()
        if self.plain:
            return list(map(self.row._make, raw))
        results, row = self.results, self.row
        return [row(*[f(v) if f else v for f, v in zip(results, r, strict=True)]) for r in raw]


class LoopReader:
    """SQLite reads on the event loop's own thread, through one autocommit connection.

    aiosqlite hands every call (checkout, execute, fetch, reset) to its thread and back: six
    hops for a one-row lookup that SQLite answers in ~15 µs, and on a busy two-core machine each
    hop waits for the scheduler. The hot reads (session check, device list, history page) are
    indexed lookups of a few rows, so running them where the request already is costs far less.
    WAL lets them run beside a writer without waiting; the busy timeout only matters while
    SQLite recovers a WAL index (after a crash), and is kept short for that reason."""

    BUSY_TIMEOUT_MS = 1000

    def __init__(self, url: str) -> None:
        sync_url = make_url(url).set(drivername="sqlite")
        self._engine = create_engine(
            sync_url,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
            hide_parameters=True,
        )

        @event.listens_for(self._engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # autocommit: each read sees the latest commit
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={self.BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA query_only=ON")
            cursor.close()

        self._connection: Connection | None = None
        self._plans: dict[Prepared, _Plan] = {}

    def fetch(
        self, statement: Executable | Prepared, params: Mapping[str, Any]
    ) -> Sequence[Row[Any]]:
        if self._connection is None:
            self._connection = self._engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            )
        if isinstance(statement, Prepared):
            plan = self._plans.get(statement)
            if plan is None:
                plan = self._plans[statement] = _Plan(statement, self._engine.dialect)
            return plan.run(self._connection.connection.dbapi_connection, params)
        return self._connection.execute(statement, params).all()

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._engine.dispose()


class ThreadWriter:
    """SQLite write transactions run whole, start to commit, on one thread of their own.

    Through aiosqlite every statement of a transaction is a hop to its thread and back (checkout,
    BEGIN, each execute and fetch, COMMIT, reset): a sign-in's ~10 statements made ~30 hops, and on
    a busy two-core machine each hop waits for the scheduler (~32 ms in all). Handing the whole
    transaction over as one function makes it one hop. One thread is enough: SQLite has a single
    writer anyway, and the busy timeout applies as on the other writer's connections."""

    def __init__(self, url: str) -> None:
        sync_url = make_url(url).set(drivername="sqlite")
        self._engine = create_engine(
            sync_url,
            poolclass=StaticPool,
            connect_args={"check_same_thread": False},
            hide_parameters=True,
        )
        _configure_sqlite(self._engine, immediate=True)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pooldesk-writer")

    async def run(self, work: Callable[[Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._transaction, work)

    def _transaction(self, work: Callable[[Connection], T]) -> T:
        with self._engine.begin() as connection:
            return work(connection)

    def close(self) -> None:
        self._thread.submit(self._engine.dispose).result()
        self._thread.shutdown(wait=True)


class Database:
    """Owns the engines; hands out read-only and read-write sessions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.reader, self.writer = create_engines(url)
        self._read_sessions = async_sessionmaker(self.reader, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(self.writer, expire_on_commit=False)
        database = make_url(url).database if url.startswith("sqlite") else None
        on_file = bool(database and database != ":memory:" and not database.startswith("file:"))
        self._loop_reader = LoopReader(url) if on_file else None
        self._thread_writer = ThreadWriter(url) if on_file else None

    def read_engines(self) -> list[Engine]:
        """The (sync) engines reads go through, e.g. to observe them."""
        engines = [self.reader.sync_engine]
        if self._loop_reader is not None:
            engines.append(self._loop_reader.engine)
        return engines

    async def fetch(
        self, statement: Executable | Prepared, params: Mapping[str, Any] | None = None
    ) -> Sequence[Row[Any]]:
        """The rows of a small Core read (no ORM objects): the hot read paths use this."""
        if self._loop_reader is not None:
            return self._loop_reader.fetch(statement, params or {})
        if isinstance(statement, Prepared):
            statement = statement.statement
        async with self.reader.connect() as connection:
            return (await connection.execute(statement, params or {})).all()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read_sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction that commits when the block ends and rolls back on an exception."""
        async with self._write_sessions() as session, session.begin():
            yield session

    async def transaction(self, work: Callable[[Connection], T]) -> T:
        """Run `work` in one write transaction on a (sync) Core connection: committed when it
        returns, rolled back when it raises. On a SQLite file the whole of it is one hop to the
        writer thread (ThreadWriter); elsewhere it runs on the async writer's connection. Keep
        `work` to SQL and quick Python: on SQLite it holds the write lock throughout."""
        if self._thread_writer is not None:
            return await self._thread_writer.run(work)
        async with self.writer.begin() as connection:
            return await connection.run_sync(work)

    async def dispose(self) -> None:
        if self._loop_reader is not None:
            self._loop_reader.close()
        if self._thread_writer is not None:
            await asyncio.to_thread(self._thread_writer.close)
        await self.reader.dispose()
        if self.writer is not self.reader:
            await self.writer.dispose()
