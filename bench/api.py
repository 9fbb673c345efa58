"""API load benchmark: a real `pooldesk-backend serve` holding 10,000 users and 1,000,000 history
rows, driven by wrk (an external load generator: `apt-get install wrk`) beside a bare Starlette
JSON endpoint served the same way (uvicorn, uvloop, httptools) in the same round. Prints
requests/s and p50/p99 latency per scenario, ratios against the bare endpoint, and whether each
goal of issue 11 is met, over --repeat rounds (min–max: the machine is shared).

    .venv/bin/python bench/api.py                 # SQLite in /tmp/pooldesk-bench (kept for re-runs)
    .venv/bin/python bench/api.py --postgres      # on a throw-away PostgreSQL cluster
    DATABASE_URL=postgresql+asyncpg://... .venv/bin/python bench/api.py

`--workers 2` runs `serve --workers 2` beside the bare endpoint with 2 uvicorn workers (ratios
compare like with like); `--workers 1,2` measures both counts in one run, one after the other;
`--only devices,verify` keeps those scenarios alone. The
whole run is bounded by --max-seconds (default 330 per worker count): each phase checks the
deadline and the load phases shrink or stop when it is near. The data set is built once (about
a minute) and kept in --data-dir for the next runs. The load average before and after is
printed: on a shared machine the ratios move with it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
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

if __name__ == "__main__":
    import sys

    port, workers = int(sys.argv[1]), int(sys.argv[2])
    uvicorn.run(
        "bare_app:app" if workers > 1 else app,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )
"""


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
    # Fold the WAL into the file now: otherwise the server's first write checkpoints ~200 MB
    # in the middle of a measurement.
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
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

# wrk runs one Lua state per thread; `request` builds each request, cycling through the
# signed-in users so that every request is some user's (a server cache cannot serve one token).
WRK_SCRIPT = """
local items = {ITEMS}
local method, body = "{METHOD}", {BODY}
local n = 0
request = function()
  n = n + 1
  local item = items[(n % #items) + 1]
  local headers = {}
  if item.token ~= "" then headers["Authorization"] = "Bearer " .. item.token end
  if body ~= nil then headers["Content-Type"] = "application/json" end
  return wrk.format(method, item.path, headers, item.body)
end
"""


@dataclass
class Result:
    name: str
    concurrency: int
    requests: int
    errors: int
    rate: float
    p50: float  # ms
    p99: float  # ms


@dataclass
class Scenario:
    name: str
    base_url: str
    concurrency: int
    method: str
    items: Sequence[tuple[str, str, str | None]]  # (path, token, JSON body)


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_script(scenario: Scenario) -> str:
    items = ", ".join(
        "{path="
        + lua_string(path)
        + ", token="
        + lua_string(token)
        + ", body="
        + (lua_string(body) if body else "nil")
        + "}"
        for path, token, body in scenario.items
    )
    has_body = any(body for _, _, body in scenario.items)
    return (
        WRK_SCRIPT.replace("{ITEMS}", "{" + items + "}")
        .replace("{METHOD}", scenario.method)
        .replace("{BODY}", '""' if has_body else "nil")
    )


def parse_duration_ms(text: str) -> float:
    value = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text.strip())
    if value is None:
        return float("nan")
    number, unit = float(value.group(1)), value.group(2)
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def parse_wrk(name: str, concurrency: int, output: str) -> Result:
    def find(pattern: str) -> str | None:
        match = re.search(pattern, output, re.MULTILINE)
        return match.group(1) if match else None

    requests = int(find(r"^\s*(\d+) requests in") or 0)
    bad = int(find(r"Non-2xx or 3xx responses: (\d+)") or 0)
    socket_errors = find(r"Socket errors: (.*)$")
    failed = sum(int(n) for n in re.findall(r"\d+", socket_errors or ""))
    return Result(
        name,
        concurrency,
        requests,
        bad + failed,
        float(find(r"^Requests/sec:\s+([0-9.]+)") or 0),
        parse_duration_ms(find(r"^\s+50%\s+(\S+)") or ""),
        parse_duration_ms(find(r"^\s+99%\s+(\S+)") or ""),
    )


def run_wrk(scenario: Scenario, seconds: float, work_dir: Path) -> Result:
    """wrk -t1 -c<concurrency> -d<seconds>s --latency against the scenario's requests."""
    script = work_dir / "scenario.lua"
    script.write_text(wrk_script(scenario))
    command = [
        "wrk", "-t1", f"-c{scenario.concurrency}", f"-d{max(1, round(seconds))}s",
        "--latency", "--timeout", "10s", "-s", str(script), scenario.base_url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stderr.strip() or done.stdout.strip()}")
    return parse_wrk(scenario.name, scenario.concurrency, done.stdout)


def start(
    cmd: list[str], env: dict[str, str], port: int, log: Path, ready: str | None = None
) -> subprocess.Popen[bytes]:
    """Start a server logging into `log`; return once it accepts connections (and, with
    `ready`, once its log says so: every worker of `serve --workers N` is up)."""
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=out)
    try:
        wait_for_port(port, timeout=60)
        deadline = time.monotonic() + 120
        while ready is not None and ready not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise TimeoutError
            time.sleep(0.1)
    except TimeoutError:
        process.kill()
        said = log.read_text(errors="replace")
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
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--login-concurrency", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=2, help="rounds (the spread is reported)")
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="start a throw-away PostgreSQL cluster (Debian binaries) and benchmark on it",
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="load per scenario")
    parser.add_argument(
        "--max-seconds", type=float, help="bound on the whole run (330 per --workers count)"
    )
    parser.add_argument(
        "--workers",
        type=worker_counts,
        default=[1],
        help="`serve --workers N` (and the bare endpoint with N workers); a list (1,2) measures "
        "each in turn (default 1)",
    )
    parser.add_argument(
        "--only",
        type=lambda text: [w.strip() for w in text.split(",") if w.strip()],
        default=[],
        help="only scenarios whose name holds one of these words (e.g. devices,verify); the "
        "bare endpoint always runs",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "pooldesk-bench"
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (make system-deps does)")
    deadline = time.monotonic() + (args.max_seconds or 330.0 * len(args.workers))

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


def worker_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"a count or a list like 1,2, not {text!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"worker counts are at least 1, not {text!r}")
    return counts


async def sign_in(api_url: str, count: int) -> list[str]:
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as client:
        tokens = []
        for i in range(count):
            response = await client.post(
                "/api/auth/login", json={"username": f"bench{i:05d}", "password": PASSWORD}
            )
            response.raise_for_status()
            tokens.append(response.json()["token"])
    return tokens


def scenarios(
    args: argparse.Namespace, api_url: str, bare_url: str, tokens: list[str], day_ago: str
) -> list[Scenario]:
    history = [
        (f"/api/history?deviceId=ESP-{i:06X}&from={day_ago}&limit=100", token, None)
        for i, token in enumerate(tokens)
    ]
    logins = [
        ("/api/auth/login", "",
         json.dumps({"username": f"bench{i:05d}", "password": PASSWORD}))
        for i in range(TOKENS, min(args.users, TOKENS + 500))
    ]  # fmt: skip
    c = args.concurrency
    return [
        Scenario("bare starlette", bare_url, c, "GET", [("/bare", "", None)]),
        Scenario("GET /livez", api_url, c, "GET", [("/livez", "", None)]),
        Scenario("GET /readyz", api_url, c, "GET", [("/readyz", "", None)]),
        Scenario("GET /api/auth/verify", api_url, c, "GET",
                 [("/api/auth/verify", t, None) for t in tokens]),
        Scenario("GET /api/devices", api_url, c, "GET",
                 [("/api/devices", t, None) for t in tokens]),
        Scenario("GET /api/history 24h", api_url, c, "GET", history),
        Scenario("POST /api/auth/login", api_url, args.login_concurrency, "POST", logins),
    ]  # fmt: skip


async def run(args: argparse.Namespace, url: str, deadline: float) -> int:
    await asyncio.wait_for(prepare(args, url), timeout=max(1.0, deadline - time.monotonic()))
    args.load_before = os.getloadavg()

    env = {k: v for k, v in os.environ.items() if not k.startswith("POOLDESK_")}
    env.update(JWT_SECRET=SECRET, PYTHONPATH=str(REPO), DATABASE_URL=url)
    # Sign-ins from one address all day long: the bench is not an attack.
    env.update(POOLDESK_LOGIN_ATTEMPTS_PER_ADDRESS="1000000")
    measured: list[tuple[int, list[list[Result]], float]] = []
    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "bare_app.py").write_text(BARE_APP)
        for n, workers in enumerate(args.workers):
            # Each server count gets an equal share of the time that is left.
            share = (deadline - time.monotonic()) / (len(args.workers) - n)
            rounds, history_one = await measure(
                args, env, workers, Path(work), time.monotonic() + share
            )
            measured.append((workers, rounds, history_one))

    for workers, rounds, history_one in measured:
        print_report(rounds, args, url, history_one, workers)
    return 0


async def measure(
    args: argparse.Namespace,
    env: dict[str, str],
    workers: int,
    work: Path,
    deadline: float,
) -> tuple[list[list[Result]], float]:
    """Start `serve --workers <workers>` and the bare endpoint with as many processes, run the
    rounds, stop both."""
    bare_port = free_port()
    bare = start(
        [sys.executable, str(work / "bare_app.py"), str(bare_port), str(workers)],
        {**env, "PYTHONPATH": str(work)},
        bare_port,
        work / f"bare-{workers}.log",
    )
    bare_url = f"http://127.0.0.1:{bare_port}"
    try:
        return await _measure_beside(args, env, workers, bare_url, work, deadline)
    finally:
        stop(bare)


async def _measure_beside(
    args: argparse.Namespace,
    env: dict[str, str],
    workers: int,
    bare_url: str,
    work: Path,
    deadline: float,
) -> tuple[list[list[Result]], float]:
    api_port = free_port()
    api = start(
        [sys.executable, "-m", "pooldesk_server.cli", "serve", "--port", str(api_port),
         "--data-dir", str(args.data_dir), "--log-level", "info" if workers > 1 else "warning",
         "--workers", str(workers)],
        env, api_port, work / f"serve-{workers}.log",
        ready=f"{workers} workers serving" if workers > 1 else None,
    )  # fmt: skip
    rounds: list[list[Result]] = []
    try:
        api_url = f"http://127.0.0.1:{api_port}"
        tokens = await sign_in(api_url, min(TOKENS, args.users))
        day_ago = (datetime.now(UTC) - timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%SZ")
        plan = [
            s
            for s in scenarios(args, api_url, bare_url, tokens, day_ago)
            if s.name == "bare starlette" or not args.only or any(w in s.name for w in args.only)
        ]
        for round_ in range(args.repeat):
            results: list[Result] = []
            for scenario in plan:
                left = deadline - time.monotonic() - 20
                if left < 1:
                    print(f"skipped {scenario.name}: --max-seconds reached")
                    continue
                results.append(run_wrk(scenario, min(args.seconds, left), work))
            rounds.append(results)
            print_round(round_ + 1, results, workers)
        history_one = await single_request_latency(api_url, tokens[0], day_ago)
    finally:
        stop(api)
    return rounds, history_one


async def single_request_latency(api_url: str, token: str, since: str) -> float:
    """Median of 50 sequential 24 h history requests for one device (100 newest events), no
    other load; measured from the client, so it includes the HTTP round trip."""
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


# (scenario, what is compared, goal, aim) — None where the issue sets no goal.
GOALS: dict[str, tuple[float | None, float | None, str]] = {
    "GET /api/auth/verify": (0.3, 25.0, "≥0.3× bare (aim 0.5×), p99 <25 ms"),
    "GET /api/devices": (0.3, 25.0, "≥0.3× bare (aim 0.5×), p99 <25 ms"),
    # Cheap: as fast as the bare endpoint, give or take the scheduler of a shared machine.
    "GET /livez": (0.8, None, "cheap (≥0.8× bare; no database per call)"),
    "GET /readyz": (0.8, None, "cheap (≥0.8× bare; database probed once a second)"),
}


def ratio(result: Result, base: Result | None) -> float:
    return result.rate / base.rate if base and base.rate else float("nan")


def print_round(number: int, results: list[Result], workers: int) -> None:
    base = results[0] if results and results[0].name == "bare starlette" else None
    print(f"\nround {number}, serve --workers {workers}")
    header = f"{'scenario':24} {'conc':>5} {'reqs':>8} {'err':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'× bare':>7}"  # noqa: E501
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.name:24} {r.concurrency:>5} {r.requests:>8} {r.errors:>5} {r.rate:>8.0f} "
            f"{r.p50:>8.1f} {r.p99:>8.1f} {ratio(r, base):>7.2f}"
        )


def print_report(
    rounds: list[list[Result]],
    args: argparse.Namespace,
    url: str,
    history_one: float,
    workers: int,
) -> None:
    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    before, after = args.load_before, os.getloadavg()
    print(
        f"\nload average (1, 5, 15 min): before {before[0]:.2f} {before[1]:.2f} {before[2]:.2f}, "
        f"after {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}"
    )
    print(
        f"summary: serve --workers {workers}, {database}, {args.users} users, "
        f"{args.events} events, "
        f"cores: {os.cpu_count()}, wrk -t1, {len(rounds)} round(s); ratios are against the "
        "bare Starlette endpoint in the same round (min–max over rounds)"
    )
    names = [r.name for r in rounds[0]] if rounds else []
    bare_p99 = [r.p99 for rs in rounds for r in rs if r.name == "bare starlette"]
    if bare_p99:
        print(
            f"  (the bare endpoint's own p99: {min(bare_p99):.1f}–{max(bare_p99):.1f} ms; "
            "a p99 goal below it measures the machine, not the server)"
        )
    for name in names:
        rows = [(r, rs[0]) for rs in rounds for r in rs if r.name == name]
        ratios = [ratio(r, b) for r, b in rows]
        p99s = [r.p99 for r, _ in rows]
        p50s = [r.p50 for r, _ in rows]
        errors = sum(r.errors for r, _ in rows)
        verdict = ""
        goal = GOALS.get(name)
        if goal is not None:
            min_ratio, max_p99, text = goal
            met = (min_ratio is None or min(ratios) >= min_ratio) and max(p99s) < (
                max_p99 or float("inf")
            )
            verdict = f"goal {text}: {'met' if met and not errors else 'NOT MET'}"
        if name == "POST /api/auth/login":
            verdict = f"goal p50 <60 ms: {'met' if max(p50s) < 60 and not errors else 'NOT MET'}"
        print(
            f"  {name:24} × bare {min(ratios):.2f}–{max(ratios):.2f}  "
            f"p50 {min(p50s):.1f}–{max(p50s):.1f} ms  p99 {min(p99s):.1f}–{max(p99s):.1f} ms  "
            f"errors {errors}  {verdict}"
        )
    history_met = "met" if history_one < 10 else "NOT MET"
    print(
        f"  24 h history of one device (100 newest events), unloaded, median "
        f"{history_one:.1f} ms  goal <10 ms: {history_met}"
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
