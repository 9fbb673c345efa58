"""`pooldesk-backend serve --workers 2` as a real process tree over HTTP (issue 11).

Which worker answered a request is found the way an operator could: the server end of the test's
TCP connection (/proc/net/tcp) belongs to one worker's open files (/proc/PID/fd). Nothing in the
server exists for the test.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.backend.helpers import PASSWORD
from tests.backend.test_cli import clean_env, run_cli
from tests.broker.probe import Probe
from tests.support.ports import free_port
from tests.support.processes import children_of, die_with_parent

REPO = Path(__file__).resolve().parents[2]
CACHE_BOUND_S = 2.0  # POOLDESK_SESSION_CACHE_SECONDS given to the server
SERVING = re.compile(r"2 workers serving \(pids (\d+), (\d+);")


@dataclass
class Workers:
    process: subprocess.Popen[str]
    port: int
    data_dir: Path
    log: Path

    def output(self) -> str:
        return self.log.read_text()

    def worker_pids(self) -> list[int]:
        """The live workers (the supervisor's children running the app)."""
        return [
            pid
            for pid in children_of(self.process.pid)
            if b"spawn_main" in _cmdline(pid) and b"resource_tracker" not in _cmdline(pid)
        ]

    def primary_pid(self) -> int:
        """Worker 0: the one whose child is the managed broker."""
        found = [p for p in self.worker_pids() if _brokers_under(p, self.data_dir)]
        assert len(found) == 1, (found, self.output())
        return found[0]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _brokers_under(pid: int, data_dir: Path) -> list[int]:
    conf = str(data_dir / "broker" / "mosquitto.conf").encode()
    return [c for c in children_of(pid) if b"mosquitto" in _cmdline(c) and conf in _cmdline(c)]


def _all_brokers(data_dir: Path) -> list[int]:
    conf = str(data_dir / "broker" / "mosquitto.conf").encode()
    return [
        int(p.name)
        for p in Path("/proc").iterdir()
        if p.name.isdigit() and conf in _cmdline(int(p.name)) and _alive(int(p.name))
    ]


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children_of(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _start(tmp_path: Path, *extra: str, log_name: str = "serve.log", **env: str) -> Workers:
    port = free_port()
    data_dir = tmp_path / "data"
    log = tmp_path / log_name
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "pooldesk_server.cli", "serve", "--port", str(port)),
                *("--data-dir", str(data_dir), *extra),
            ],
            cwd=tmp_path,
            env=clean_env(POOLDESK_SESSION_CACHE_SECONDS=str(int(CACHE_BOUND_S)), **env),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=die_with_parent(),
        )
    server = Workers(process, port, data_dir, log)
    deadline = time.monotonic() + 90
    while not SERVING.search(server.output()):
        assert process.poll() is None, server.output()
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)
    return server


def _stop(server: Workers) -> int:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(40)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    return server.process.returncode


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    server = _start(tmp_path, "--workers", "2")
    try:
        yield server
    finally:
        _stop(server)


class Connection:
    """One keep-alive HTTP connection, and the worker that holds its server end."""

    def __init__(self, server: Workers) -> None:
        self.server = server
        self.http = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self.http.connect()
        self.local_port = self.http.sock.getsockname()[1]

    def call(self, method: str, path: str, token: str = "", body: object = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.http.request(method, path, body=data, headers=headers)
        response = self.http.getresponse()
        payload = response.read()
        return response.status, json.loads(payload) if payload else None

    def worker(self) -> int:
        """The pid of the worker process that accepted this connection."""
        inode = _server_socket_inode(self.server.port, self.local_port)
        for pid in self.server.worker_pids():
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
                except OSError:
                    continue
        raise AssertionError(f"no worker holds the server end of port {self.local_port}")

    def close(self) -> None:
        self.http.close()


def _server_socket_inode(server_port: int, client_port: int) -> str:
    """The inode of the established socket 127.0.0.1:server_port <- 127.0.0.1:client_port."""
    local, remote = f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote:
            return fields[9]
    raise AssertionError(f"no server socket for client port {client_port}")


def one_connection_per_worker(server: Workers, within: float = 30.0) -> dict[int, Connection]:
    """Open connections (a few at once, as clients do) until every worker holds one."""
    wanted = set(server.worker_pids())
    held: dict[int, Connection] = {}
    spare: list[Connection] = []
    deadline = time.monotonic() + within
    while set(held) != wanted:
        assert time.monotonic() < deadline, f"connections only reached workers {sorted(held)}"
        batch = [Connection(server) for _ in range(8)]
        for connection in batch:
            assert connection.call("GET", "/livez")[0] == 200
        for connection in batch:
            pid = connection.worker()
            if pid in held:
                spare.append(connection)
            else:
                held[pid] = connection
    for connection in spare:
        connection.close()
    return held


def _sign_in(connection: Connection, name: str = "alice") -> dict:
    status, body = connection.call(
        "POST",
        "/api/auth/register",
        body={"username": name, "email": f"{name}@example.com", "password": PASSWORD},
    )
    assert status == 201, body
    status, body = connection.call(
        "POST", "/api/auth/login", body={"username": name, "password": PASSWORD}
    )
    assert status == 200, body
    return body


def test_requests_are_answered_by_both_workers_and_the_broker_runs_once(workers: Workers):
    first_pid, second_pid = map(int, SERVING.search(workers.output()).groups())
    assert sorted(workers.worker_pids()) == sorted([first_pid, second_pid])
    assert workers.primary_pid() == first_pid  # worker 0
    assert len(_brokers_under(workers.primary_pid(), workers.data_dir)) == 1
    assert len(_all_brokers(workers.data_dir)) == 1  # started once, by worker 0 alone
    assert workers.output().count("MQTT broker (managed) at") == 1

    by_worker = one_connection_per_worker(workers)
    token = _sign_in(next(iter(by_worker.values())))["token"]
    for pid, connection in by_worker.items():
        status, body = connection.call("GET", "/api/devices", token)
        assert status == 200, (pid, body)
        status, body = connection.call("GET", "/healthz")  # the primary's view, from any worker
        assert status == 200, (pid, body)
        assert body["components"]["recorder"] == {"ok": True, "detail": "subscribed"}, body
        assert body["components"]["broker"]["ok"] is True, body

    # A primary that stops reporting (stuck) is reported down by the other worker.
    primary = workers.primary_pid()
    other = by_worker[next(pid for pid in by_worker if pid != primary)]
    os.kill(primary, signal.SIGSTOP)
    try:
        _wait(lambda: other.call("GET", "/healthz")[0] == 503, within=30)
        message = other.call("GET", "/healthz")[1]["error"]["message"]
        assert "no report from the primary worker" in message, message
    finally:
        os.kill(primary, signal.SIGCONT)
    _wait(lambda: other.call("GET", "/healthz")[0] == 200, within=30)


def test_a_sign_in_works_on_every_worker_and_a_logout_reaches_all_within_the_bound(
    workers: Workers,
):
    by_worker = one_connection_per_worker(workers)
    primary = workers.primary_pid()
    other = next(pid for pid in by_worker if pid != primary)
    # Signed in on the worker that does not run the singleton jobs: the ephemeral JWT secret
    # (no JWT_SECRET here) is the same in every worker.
    session = _sign_in(by_worker[other], "bob")
    token = session["token"]
    for connection in by_worker.values():  # each worker caches the session as valid
        assert connection.call("GET", "/api/auth/verify", token)[0] == 200

    # The other worker hands out an MQTT login at the primary's broker, and takes it back.
    status, creds = by_worker[other].call("GET", "/api/auth/mqtt-credentials", token)
    assert status == 200, creds
    port = int(creds["brokerUrl"].rsplit(":", 1)[1])
    probe = Probe(port, creds["mqttUser"], creds["mqttPassword"], creds["clientId"])
    try:
        assert asyncio.run(probe.connect()) == 0

        status, _ = by_worker[primary].call("POST", "/api/auth/logout", token)
        assert status == 200
        ended = time.monotonic()
        assert by_worker[primary].call("GET", "/api/auth/verify", token)[0] == 401  # at once
        while True:  # the other worker serves it from its cache at most CACHE_BOUND_S longer
            sent = time.monotonic()
            status = by_worker[other].call("GET", "/api/auth/verify", token)[0]
            if status == 401:
                break
            assert status == 200
            assert sent - ended < CACHE_BOUND_S + 0.25, "a revoked session served past the bound"
            time.sleep(0.05)
        # The logout went through the primary; the dashboard's MQTT connection is cut.
        assert probe.disconnected.wait(5), "the MQTT login of the ended session still works"
    finally:
        probe.close()

    # And the other way round: a logout on the other worker cuts the login it issued.
    session = _sign_in(by_worker[primary], "carol")
    status, creds = by_worker[other].call("GET", "/api/auth/mqtt-credentials", session["token"])
    assert status == 200, creds
    probe = Probe(port, creds["mqttUser"], creds["mqttPassword"], creds["clientId"])
    try:
        assert asyncio.run(probe.connect()) == 0
        assert by_worker[other].call("POST", "/api/auth/logout", session["token"])[0] == 200
        assert probe.disconnected.wait(5), "a logout on a secondary worker left the MQTT login"
    finally:
        probe.close()


def test_a_second_serve_on_the_same_folder_is_still_refused(workers: Workers, tmp_path: Path):
    for extra in (["--workers", "2"], []):
        other = run_cli(
            "serve",
            "--port",
            str(free_port()),
            "--data-dir",
            str(workers.data_dir),
            *extra,
            cwd=tmp_path,
        )
        assert other.returncode == 1, other.stderr
        assert f"in use by pid {workers.process.pid}" in other.stderr, other.stderr
    assert len(_all_brokers(workers.data_dir)) == 1


def test_killed_workers_are_replaced_and_sigterm_leaves_nothing_behind(tmp_path: Path):
    server = _start(tmp_path, "--workers", "2")
    try:
        primary = server.primary_pid()
        secondary = next(p for p in server.worker_pids() if p != primary)
        broker = _brokers_under(primary, server.data_dir)[0]

        os.kill(secondary, signal.SIGKILL)
        _wait(lambda: len(server.worker_pids()) == 2 and secondary not in server.worker_pids())
        assert f"worker 1 (pid {secondary}) exited with code -9; starting a new one" in (
            server.output()
        )
        assert _brokers_under(primary, server.data_dir) == [broker]  # the broker never noticed
        assert set(one_connection_per_worker(server)) == set(server.worker_pids())

        os.kill(primary, signal.SIGKILL)  # the broker goes with it; a new primary starts one
        _wait(lambda: primary not in server.worker_pids() and len(server.worker_pids()) == 2)
        assert f"worker 0 (pid {primary}) exited with code -9; starting a new one" in (
            server.output()
        )
        _wait(
            lambda: (
                len(_all_brokers(server.data_dir)) == 1
                and broker not in _all_brokers(server.data_dir)
            )
        )
        new_primary = server.primary_pid()
        assert new_primary != primary
        by_worker = one_connection_per_worker(server)
        token = _sign_in(by_worker[new_primary], "dave")["token"]
        for connection in by_worker.values():
            _wait(lambda c=connection: c.call("GET", "/healthz")[0] == 200)
            assert connection.call("GET", "/api/auth/mqtt-credentials", token)[0] == 200

        everything = _descendants(server.process.pid)
        assert len(everything) >= 4  # two workers, the broker, multiprocessing's tracker
    finally:
        code = _stop(server)
    assert code == 0, server.output()
    _wait(lambda: not [p for p in everything if _alive(p)])
    assert "Application shutdown complete" in server.output()


def test_a_killed_supervisor_leaves_no_worker_or_broker_behind(tmp_path: Path):
    server = _start(tmp_path, "--workers", "2")
    everything = _descendants(server.process.pid)
    try:
        assert len(_all_brokers(server.data_dir)) == 1
        server.process.kill()  # SIGKILL: no shutdown of its own
        server.process.wait()
        _wait(lambda: not [p for p in everything if _alive(p)], within=30)
        assert _all_brokers(server.data_dir) == []
    finally:
        for pid in everything:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _wait(predicate, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
        time.sleep(0.05)


def test_a_worker_count_below_one_is_refused_with_a_message(tmp_path: Path):
    flag = run_cli("serve", "--workers", "0", "--data-dir", str(tmp_path / "a"), cwd=tmp_path)
    assert flag.returncode == 1
    assert "--workers must be at least 1, got 0" in flag.stderr
    env = run_cli("serve", "--data-dir", str(tmp_path / "b"), cwd=tmp_path, POOLDESK_WORKERS="x")
    assert env.returncode == 2
    assert "POOLDESK_WORKERS must be a whole number, got 'x'" in env.stderr


def test_a_proxys_burst_of_connections_is_spread_over_the_workers(workers: Workers):
    """A reverse proxy opens its pool of keep-alive connections at once and then keeps them:
    if one worker took the whole burst, the others would never see a request from it. (With
    one socket shared by the workers, the first to wake took all 16 in about one burst of
    three; with a socket each, the kernel spreads them: all 16 on one is a 1 in 30,000 event.)"""
    for _burst in range(3):
        pool = [Connection(workers) for _ in range(16)]  # connected before any worker accepts
        try:
            for connection in pool:
                assert connection.call("GET", "/livez")[0] == 200
            held: dict[int, int] = {}
            for connection in pool:
                pid = connection.worker()
                held[pid] = held.get(pid, 0) + 1
            assert set(held) == set(workers.worker_pids()), held
        finally:
            for connection in pool:
                connection.close()
