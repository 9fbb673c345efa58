"""API load benchmark: a real `pooldesk-backend serve` holding 10,000 users and 1,000,000 history
rows, driven by many concurrent httpx clients, beside a bare Starlette JSON endpoint served the
same way in the same run. Prints requests/s and p50/p99 latency per scenario, and ratios against
the bare endpoint.

    .venv/bin/python bench/api.py                 # SQLite in /tmp/pooldesk-bench (kept for re-runs)
    .venv/bin/python bench/api.py --postgres      # on a throw-away PostgreSQL cluster
    DATABASE_URL=postgresql+asyncpg://... .venv/bin/python bench/api.py

The whole run is bounded by --max-seconds (default 420): each phase checks the deadline and the
load phases shrink or stop when it is near.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pooldesk_server.db.engine import Database  # noqa: E402
from pooldesk_server.db.migrate import upgrade_to_head  # noqa: E402
from pooldesk_server.security.passwords import Passwords  # noqa: E402
from tests.support.ports import free_port, wait_for_port  # noqa: E402

PASSWORD = "BenchPass123!@#"
FOCUS_DEVICES = 100  # these get one event a minute for 48 h (the "24 h history" targets)
TOKENS = 50
SECRET = "bench-secret-" + "b" * 64

BARE_APP = """
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

async def hello(request):
    return JSONResponse({"ok": True, "status": "ok"})

app = Starlette(routes=[Route("/bare", hello)])
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning", access_log=False)
"""


@dataclass
class Result:
    name: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000


# -- data ----------------------------------------------------------------------------------------


def sqlite_stamp(value: datetime) -> str:
    """The text SQLAlchemy stores for a DateTime on SQLite (naive UTC, microseconds)."""
    return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def dataset(users: int, events: int, now: datetime):
    """Yield (users, devices, events) rows; events spread as described in the module doc."""
    password_hash = Passwords(memory_kib=19 * 1024, time_cost=2, parallelism=1)._hasher.hash(
        PASSWORD
    )
    user_rows, device_rows = [], []
    for i in range(users):
        user_id = str(uuid.UUID(int=i + 1))
        device_id = f"ESP-{i:06X}"
        user_rows.append(
            (user_id, f"bench{i:05d}", f"bench{i:05d}@example.com", password_hash, now)
        )
        device_rows.append(
            (
                str(uuid.UUID(int=(1 << 64) + i)),
                device_id,
                user_id,
                f"Pool {i}",
                "pool-controller",
                f"users/bench{i:05d}/devices/{device_id.lower()}",
                "offline",
                now,
            )
        )
    focus_events = min(events, FOCUS_DEVICES * 2880)
    rest = events - focus_events

    def event_rows():
        rng = random.Random(7)
        for n in range(focus_events):
            device = device_rows[n // 2880 % len(device_rows)][0]
            ts = now - timedelta(minutes=n % 2880)
            yield (device, "telemetry", ts, ts, '{"temp":26.5,"ph":7.2,"pump":true}')
        for _ in range(rest):
            device = device_rows[rng.randrange(FOCUS_DEVICES, len(device_rows))][0]
            ts = now - timedelta(seconds=rng.randrange(30 * 86400))
            yield (device, rng.choice(("telemetry", "pump/state", "alert")), ts, ts, '{"v":1}')

    return user_rows, device_rows, event_rows()


def fill_sqlite(path: Path, users: int, events: int, now: datetime) -> None:
    user_rows, device_rows, event_rows = dataset(users, events, now)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    with conn:
        conn.executemany(
            "INSERT INTO users (id, username, email, password_hash, created_at) VALUES (?,?,?,?,?)",
            [(*r[:4], sqlite_stamp(r[4])) for r in user_rows],
        )
        conn.executemany(
            "INSERT INTO devices (id, device_id, user_id, name, device_type, topic_prefix, status,"
            " created_at) VALUES (?,?,?,?,?,?,?,?)",
            [(*r[:7], sqlite_stamp(r[7])) for r in device_rows],
        )
        conn.executemany(
            "INSERT INTO events (device_pk, type, ts, received_at, data) VALUES (?,?,?,?,?)",
            ((d, t, sqlite_stamp(ts), sqlite_stamp(rx), data) for d, t, ts, rx, data in event_rows),
        )
    conn.execute("ANALYZE")
    conn.close()


async def fill_postgres(url: str, users: int, events: int, now: datetime) -> None:
    import asyncpg

    user_rows, device_rows, event_rows = dataset(users, events, now)
    naive = now.replace(tzinfo=None)
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "TRUNCATE users, devices, events, sessions, refresh_tokens, audit_log, login_throttle "
            "RESTART IDENTITY CASCADE"
        )
        await conn.copy_records_to_table(
            "users",
            records=[(*r[:4], naive) for r in user_rows],
            columns=["id", "username", "email", "password_hash", "created_at"],
        )
        await conn.copy_records_to_table(
            "devices",
            records=[(*r[:7], naive) for r in device_rows],
            columns=[
                "id",
                "device_id",
                "user_id",
                "name",
                "device_type",
                "topic_prefix",
                "status",
                "created_at",
            ],
        )
        batch: list[tuple] = []
        columns = ["device_pk", "type", "ts", "received_at", "data"]
        for d, t, ts, rx, data in event_rows:
            batch.append((d, t, ts.replace(tzinfo=None), rx.replace(tzinfo=None), data))
            if len(batch) >= 50_000:
                await conn.copy_records_to_table("events", records=batch, columns=columns)
                batch.clear()
        if batch:
            await conn.copy_records_to_table("events", records=batch, columns=columns)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def prepare(args: argparse.Namespace, url: str) -> None:
    args.data_dir.mkdir(parents=True, exist_ok=True)
    args.data_dir.chmod(0o700)  # a server data folder is private
    marker = args.data_dir / f"bench-{args.users}-{args.events}.done"
    if url.startswith("sqlite") and marker.exists():
        print(f"reusing the data set in {args.data_dir}")
        return
    started = time.perf_counter()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    if url.startswith("sqlite"):
        for name in ("pooldesk.db", "pooldesk.db-wal", "pooldesk.db-shm"):
            (args.data_dir / name).unlink(missing_ok=True)
    database = Database(url)
    try:
        await upgrade_to_head(database)
    finally:
        await database.dispose()
    now = datetime.now(UTC)
    if url.startswith("sqlite"):
        await asyncio.to_thread(
            fill_sqlite, args.data_dir / "pooldesk.db", args.users, args.events, now
        )
        marker.write_text(now.isoformat())
    else:
        await fill_postgres(url, args.users, args.events, now)
    print(
        f"loaded {args.users} users, {args.events} events in {time.perf_counter() - started:.1f} s"
    )


# -- load ----------------------------------------------------------------------------------------


async def run_load(
    name: str,
    base_url: str,
    concurrency: int,
    seconds: float,
    make_request: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]],
    expect: int = 200,
) -> Result:
    # One client (one keep-alive connection) per simulated user: a single pooled httpx client
    # serialises on its pool and measures itself rather than the server.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [
        httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) for _ in range(concurrency)
    ]
    latencies: list[float] = []
    errors = 0
    try:
        # Warm up: open the connections.
        await asyncio.gather(*(make_request(c, i) for i, c in enumerate(clients)))
        stop_at = time.perf_counter() + seconds

        async def worker(index: int) -> None:
            nonlocal errors
            n, client = index, clients[index]
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                response = await make_request(client, n)
                latencies.append(time.perf_counter() - started)
                if response.status_code != expect:
                    errors += 1
                n += concurrency

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return Result(name, concurrency, len(latencies), errors, elapsed, latencies)


def start(cmd: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for_port(port, timeout=60)
    except TimeoutError:
        process.kill()
        said = process.stderr.read().decode() if process.stderr else ""
        raise SystemExit(f"server did not start: {said[-2000:]}") from None
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--login-concurrency", type=int, default=2)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="start a throw-away PostgreSQL cluster (Debian binaries) and benchmark on it",
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="load per scenario")
    parser.add_argument("--max-seconds", type=float, default=420.0, help="bound on the whole run")
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "pooldesk-bench"
    )
    args = parser.parse_args()
    deadline = time.monotonic() + args.max_seconds

    with contextlib.ExitStack() as stack:
        url = (
            os.environ.get("DATABASE_URL") or f"sqlite+aiosqlite:///{args.data_dir / 'pooldesk.db'}"
        )
        if args.postgres:
            from tests.backend.postgres import postgres_cluster

            cluster = stack.enter_context(postgres_cluster())
            cluster.psql("postgres", "CREATE DATABASE pooldesk_bench")
            url = cluster.url("pooldesk_bench")
        return await run(args, url, deadline)


async def run(args: argparse.Namespace, url: str, deadline: float) -> int:
    await asyncio.wait_for(prepare(args, url), timeout=max(1.0, deadline - time.monotonic()))

    env = {k: v for k, v in os.environ.items() if not k.startswith("POOLDESK_")}
    env.update(JWT_SECRET=SECRET, PYTHONPATH=str(REPO), DATABASE_URL=url)
    api_port, bare_port = free_port(), free_port()
    api = start(
        [sys.executable, "-m", "pooldesk_server.cli", "serve", "--port", str(api_port),
         "--data-dir", str(args.data_dir), "--log-level", "warning"],
        env, api_port,
    )  # fmt: skip
    bare = start([sys.executable, "-c", BARE_APP.replace("{port}", str(bare_port))], env, bare_port)
    results: list[Result] = []
    try:
        api_url = f"http://127.0.0.1:{api_port}"
        async with httpx.AsyncClient(base_url=api_url, timeout=60) as client:
            tokens = []
            for i in range(min(TOKENS, args.users)):
                response = await client.post(
                    "/api/auth/login", json={"username": f"bench{i:05d}", "password": PASSWORD}
                )
                response.raise_for_status()
                tokens.append(response.json()["token"])
        day_ago = (datetime.now(UTC) - timedelta(hours=24)).isoformat().replace("+00:00", "Z")

        def auth(n: int) -> dict[str, str]:
            return {"Authorization": f"Bearer {tokens[n % len(tokens)]}"}

        scenarios: list[tuple[str, str, int, Callable]] = [
            ("bare starlette", f"http://127.0.0.1:{bare_port}", args.concurrency,
             lambda c, _n: c.get("/bare")),
            ("GET /api/auth/verify", api_url, args.concurrency,
             lambda c, n: c.get("/api/auth/verify", headers=auth(n))),
            ("GET /api/devices", api_url, args.concurrency,
             lambda c, n: c.get("/api/devices", headers=auth(n))),
            ("GET /api/history 24h", api_url, args.concurrency,
             lambda c, n: c.get(
                 "/api/history",
                 params={"deviceId": f"ESP-{n % len(tokens):06X}", "from": day_ago, "limit": 100},
                 headers=auth(n),
             )),
            ("POST /api/auth/login", api_url, args.login_concurrency,
             lambda c, n: c.post(
                 "/api/auth/login",
                 json={"username": f"bench{n % args.users:05d}", "password": PASSWORD},
             )),
        ]  # fmt: skip
        for name, base, concurrency, request in scenarios:
            left = deadline - time.monotonic() - 5
            if left < 1:
                print(f"skipped {name}: --max-seconds reached")
                continue
            results.append(
                await run_load(name, base, concurrency, min(args.seconds, left), request)
            )
        history_one = await single_request_latency(api_url, tokens[0], day_ago)
    finally:
        stop(api)
        stop(bare)

    print_report(results, args, url, history_one)
    return 0


async def single_request_latency(api_url: str, token: str, since: str) -> float:
    """Median of 50 sequential 24 h history requests for one device, no other load."""
    timings = []
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        for _ in range(50):
            started = time.perf_counter()
            response = await client.get(
                "/api/history",
                params={"deviceId": "ESP-000000", "from": since, "limit": 100},
                headers={"Authorization": f"Bearer {token}"},
            )
            timings.append(time.perf_counter() - started)
            response.raise_for_status()
    return statistics.median(timings) * 1000


def print_report(
    results: list[Result], args: argparse.Namespace, url: str, history_one: float
) -> None:
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"\n{database}, {args.users} users, {args.events} events, cores: {os.cpu_count()}")
    header = f"{'scenario':24} {'conc':>5} {'reqs':>7} {'err':>4} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'rate ratio':>10} {'p99 ratio':>9}"  # noqa: E501
    print(header)
    print("-" * len(header))
    base = results[0] if results and results[0].name == "bare starlette" else None
    for r in results:
        rate_ratio = r.rate / base.rate if base and base.rate else float("nan")
        p99_ratio = r.percentile(0.99) / base.percentile(0.99) if base else float("nan")
        print(
            f"{r.name:24} {r.concurrency:>5} {r.requests:>7} {r.errors:>4} {r.rate:>8.0f} "
            f"{r.percentile(0.5):>8.1f} {r.percentile(0.99):>8.1f} "
            f"{rate_ratio:>10.2f} {p99_ratio:>9.2f}"
        )
    print(
        f"\n24 h history of one device (100 newest events), unloaded, median: {history_one:.1f} ms"
    )
    print("ratios are against the bare Starlette endpoint in this same run (1.00 = as fast)")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
