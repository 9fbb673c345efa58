"""The demo's backend as a child process, and the check that nothing outlives the demo.

The backend runs in its own session (a process group of its own, so a Ctrl-C in the terminal
reaches the demo, which then stops it in order). It starts its managed Mosquitto in yet another
session, with a parent-death signal, and stops it on SIGTERM. Stopping therefore asks politely
first, then kills the backend's group, then looks for any process still naming the demo's data
folder on its command line (the backend, the broker) and kills those too.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

START_TIMEOUT_S = 40.0
STOP_TIMEOUT_S = 15.0
BACKEND_ARG = "__backend__"  # `pooldesk __backend__ ...` runs the backend (frozen bundles)

_PR_SET_PDEATHSIG = 1
_libc = (
    ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True) if sys.platform == "linux" else None
)


class DemoError(Exception):
    """The demo could not set itself up; the message says why and what to do."""


def backend_command(*args: str) -> list[str]:
    """How to run `pooldesk-backend ARGS` from this installation (source tree or bundle)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, BACKEND_ARG, *args]
    return [sys.executable, "-m", "pooldesk_server.cli", *args]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the demo dies, even by SIGKILL (Linux only)."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _tail(path: Path, limit: int = 1500) -> str:
    try:
        return path.read_text(errors="replace").strip()[-limit:]
    except OSError:
        return ""


def backend_environment(data_dir: Path, jwt_secret: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        # the demo always runs its own SQLite database and managed broker
        if key
        not in (
            "DATABASE_URL",
            "POOLDESK_BROKER",
            "MOSQUITTO_ADMIN_USER",
            "HIVEMQ_API_TOKEN",
            "MQTT_BROKER_URL",
            "POOLDESK_MQTT_LAN_HOST",
        )
    }
    env.update(
        JWT_SECRET=jwt_secret,
        POOLDESK_ENV="development",
        POOLDESK_ENV_FILE=str(data_dir / "no.env"),  # never a .env of the current folder
        POOLDESK_DATA_DIR=str(data_dir),
    )
    return env


class BackendProcess:
    """`pooldesk-backend serve` on a free loopback port with its data in `data_dir`."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "backend.log"
        self.proc: subprocess.Popen[bytes] | None = None

    async def start(self, within: float = START_TIMEOUT_S) -> None:
        args = [
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--log-level",
            "warning",
        ]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: ASYNC220 - fork+exec only; it is not awaited
                backend_command(*args),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
                preexec_fn=_die_with_parent if _libc is not None else None,
            )
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2.0) as http:
            while True:
                if self.proc.poll() is not None:
                    raise DemoError(
                        f"the backend stopped while starting (exit code {self.proc.returncode}): "
                        f"{_tail(self.log_path) or 'no output'}"
                    )
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    if _serving(await http.get(f"{self.url}/healthz")):
                        return
                if time.monotonic() > deadline:
                    raise DemoError(
                        f"the backend did not answer on {self.url} within {within:.0f} s: "
                        f"{_tail(self.log_path) or 'no output'}"
                    )
                await asyncio.sleep(0.1)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> list[int]:
        """Stop the backend and its broker; return the pids that could not be stopped."""
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # it stops its managed broker on the way out
                try:
                    proc.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if hasattr(os, "killpg"):  # POSIX: anything left in its process group
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
        return stop_processes_using(self.data_dir)


def processes_using(folder: Path) -> list[int]:
    """Pids of processes whose command line names `folder` (Linux /proc; empty elsewhere)."""
    proc_root = Path("/proc")
    if not proc_root.is_dir():
        return []
    needle = str(folder).encode()
    found = []
    for entry in proc_root.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if needle in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def stop_processes_using(folder: Path, grace: float = 3.0) -> list[int]:
    """TERM, then KILL, every process still naming `folder`; return those that survived."""
    pids = processes_using(folder)
    for sig in (signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM)):
        if not pids:
            return []
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            pids = processes_using(folder)
            if not pids:
                return []
            time.sleep(0.05)
    return pids


def _serving(health: httpx.Response) -> bool:
    """The backend serves once its database answers; a broker that is down (503 naming it in
    `components`) is reported by the demo step that needs it, with the backend's reason."""
    if health.status_code == 200:
        return True
    components = health.json().get("components") if health.status_code == 503 else None
    return isinstance(components, dict) and bool(components.get("database", {}).get("ok"))
