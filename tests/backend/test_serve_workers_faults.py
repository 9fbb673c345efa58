"""`serve --workers N` when things go wrong: a killed supervisor, a worker that keeps crashing, a
worker the system refuses to start, the primary gone. Real process trees over HTTP, as in
test_serve_workers.py; nothing in the server exists for these tests."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.backend.test_cli import clean_env
from tests.backend.test_serve_workers import (
    Connection,
    Workers,
    _alive,
    _all_brokers,
    _descendants,
    _start,
    _stop,
    _wait,
    one_connection_per_worker,
)
from tests.support.ports import free_port

LOCKED = "another `pooldesk-backend serve` is running on it"


def _serve_once(data_dir: Path, cwd: Path, within: float = 30.0) -> tuple[int | None, str]:
    """Start a one-process `serve` on `data_dir`: (its exit code, its output), or (None, …) if
    it was still running after `within` s (it had taken the folder) — then it is stopped."""
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "pooldesk_server.cli", "serve"),
            *("--port", str(free_port()), "--data-dir", str(data_dir)),
        ],
        cwd=cwd,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        out, _ = process.communicate(timeout=within)
        return process.returncode, out
    except subprocess.TimeoutExpired:
        process.terminate()
        out, _ = process.communicate(timeout=40)
        return None, out


def test_the_folder_stays_locked_until_the_last_worker_of_a_killed_supervisor_ends(
    tmp_path: Path,
):
    server = _start(tmp_path, "--workers", "2")
    everything = _descendants(server.process.pid)
    slow = Connection(server)
    try:
        # A sign-in whose body is still on its way: the worker finishes it before it stops.
        slow.http.sock.sendall(
            b"POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 200\r\n\r\n{"username": "alice", '
        )
        _wait(lambda: _holder_or_none(slow) is not None, within=10)
        holder = _holder_or_none(slow)
        others = [p for p in server.worker_pids() if p != holder]

        server.process.kill()  # the supervisor; systemd's Restart= starts a new serve now
        server.process.wait()
        code, out = _serve_once(server.data_dir, tmp_path)
        assert code == 1, f"a second serve took the folder while workers still run:\n{out}"
        assert LOCKED in out, out
        assert "which has ended" in out, out

        _wait(lambda: not [p for p in others if _alive(p)], within=40)
        assert _alive(holder)  # still finishing its request: the folder is still taken
        code, out = _serve_once(server.data_dir, tmp_path)
        assert code == 1, out
        assert LOCKED in out, out

        slow.close()  # the request ends; the last worker stops, and with it the lock
        _wait(lambda: not [p for p in everything if _alive(p)], within=40)
        assert _all_brokers(server.data_dir) == []
        again = _start(tmp_path, "--workers", "2", log_name="again.log")
        try:
            assert len(_all_brokers(again.data_dir)) == 1
        finally:
            assert _stop(again) == 0, again.output()
    finally:
        slow.close()
        for pid in everything:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _holder_or_none(connection: Connection) -> int | None:
    try:
        return connection.worker()
    except AssertionError:
        return None


def test_a_worker_that_keeps_dying_is_restarted_after_growing_pauses_then_given_up(
    tmp_path: Path,
):
    server = _start(tmp_path, "--workers", "2")
    primary = server.primary_pid()
    killed: list[tuple[int, float]] = []  # (pid, when)
    appeared: list[float] = []
    deadline = time.monotonic() + 60
    while server.process.poll() is None:  # kill worker 1 as soon as it shows up
        assert time.monotonic() < deadline, server.output()
        for pid in server.worker_pids():
            if pid != primary and pid not in (k for k, _ in killed):
                appeared.append(time.monotonic())
                when = time.monotonic()  # before the kill: a pause measured is never shortened
                os.kill(pid, signal.SIGKILL)
                killed.append((pid, when))
        time.sleep(0.01)

    assert server.process.returncode == 1, server.output()
    output = server.output()
    # Each replacement came after a longer pause: 1, 2, 4, 8 s (the first kill may have
    # found a worker that had run over 10 s: that one was replaced at once).
    pauses = [appeared[i + 1] - killed[i][1] for i in range(len(killed) - 1)]
    assert len(pauses) in (4, 5), (pauses, output)
    for pause, wanted in zip(pauses[-4:], (1, 2, 4, 8), strict=True):
        assert wanted - 0.1 <= pause < wanted + 5, (pauses, output)
    assert "starting a new one in 8 s" in output, output
    assert "the 5th time in a row within 10 s of its start: giving up" in output, output
    assert "error: the server stopped after serving: worker 1 (pid" in output, output
    assert "did not start" not in output, output
    assert not _alive(primary)  # stopped with it, and its broker too
    assert _all_brokers(server.data_dir) == []


def _lowest_free_fd(pid: int) -> int:
    used = {int(fd) for fd in os.listdir(f"/proc/{pid}/fd")}
    return next(n for n in range(len(used) + 1) if n not in used)


def test_a_worker_the_system_refuses_to_start_stops_the_server_with_the_reason(tmp_path: Path):
    server = _start(tmp_path, "--workers", "2")
    everything = _descendants(server.process.pid)
    try:
        primary = server.primary_pid()
        secondary = next(p for p in server.worker_pids() if p != primary)
        # The supervisor reaches its limit of open files: no new worker can be spawned.
        limit = _lowest_free_fd(server.process.pid)
        resource.prlimit(server.process.pid, resource.RLIMIT_NOFILE, (limit, limit))
        os.kill(secondary, signal.SIGKILL)
        server.process.wait(60)
        output = server.output()
        assert server.process.returncode == 1, output
        assert "worker 1 could not be started: [Errno 24] Too many open files" in output, output
        assert "error: the server stopped after serving: worker 1 could not be started" in output
        assert "Traceback" not in output, output
        # The primary was stopped (gracefully, its broker with it) before the supervisor ended.
        assert not _alive(primary), output
        assert _all_brokers(server.data_dir) == [], output
        # Python's resource tracker (a helper of multiprocessing) ends once it reads the end
        # of its pipe, a moment after the supervisor: on a busy machine not in the same instant.
        _wait(lambda: not [p for p in everything if _alive(p)], within=10)
        assert "Application shutdown complete" in output, output
    finally:
        for pid in everything:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_the_other_workers_report_the_broker_down_as_soon_as_the_primary_exits(
    tmp_path: Path,
):
    server = _start(tmp_path, "--workers", "2")
    try:
        by_worker = one_connection_per_worker(server)
        primary = server.primary_pid()
        other = by_worker[next(p for p in by_worker if p != primary)]
        assert other.call("GET", "/healthz")[0] == 200
        os.kill(primary, signal.SIGKILL)
        killed = time.monotonic()
        # "503 within a second" (docs/backend.md): the supervisor's report, read at most once a
        # second. A request sent 2.5 s after the kill must see it (a supervisor that writes no
        # report leaves the old one served until it is 9 s stale); a slow answer does not count.
        while True:
            sent = time.monotonic()
            status, body = other.call("GET", "/healthz")
            if status == 503:
                break
            assert status == 200, body
            assert sent - killed < 2.5, "the primary's last report still served"
            time.sleep(0.05)
        detail = body["components"]["broker"]["detail"]
        assert f"the primary worker (pid {primary}), which runs the broker, exited" in detail
        _wait(lambda: other.call("GET", "/healthz")[0] == 200, within=60)  # a new primary
    finally:
        assert _stop(server) == 0, server.output()


def test_a_worker_that_cannot_reach_the_broker_says_so_in_its_health(tmp_path: Path):
    server = _start(tmp_path, "--workers", "2")
    pid_file = server.data_dir / "broker" / "mosquitto.pid"
    aside = pid_file.with_name("mosquitto.pid.aside")
    try:
        primary = server.primary_pid()
        secondary = next(p for p in server.worker_pids() if p != primary)
        # The new worker 1 will not find the broker (its pid file is where it looks for it).
        pid_file.rename(aside)
        os.kill(secondary, signal.SIGKILL)
        _wait(lambda: "cannot reach the broker" in _health_of_new_worker(server, primary), 60)
        aside.rename(pid_file)  # found again: the worker's health loop attaches to it
        _wait(lambda: _health_of_new_worker(server, primary) == "ok", within=30)
    finally:
        if aside.exists():
            aside.rename(pid_file)
        assert _stop(server) == 0, server.output()


def _health_of_new_worker(server: Workers, primary: int) -> str:
    """ "ok", or the broker's detail in /healthz as answered by the worker other than
    `primary` ("" while it does not serve yet)."""
    try:
        by_worker = one_connection_per_worker(server, within=10)
    except (AssertionError, OSError):
        return ""
    other = next((c for p, c in by_worker.items() if p != primary), None)
    if other is None:
        return ""
    status, body = other.call("GET", "/healthz")
    for connection in by_worker.values():
        connection.close()
    return "ok" if status == 200 else body["components"]["broker"]["detail"]
