"""The real backend (`python -m pooldesk_server.cli serve`) as a test's child process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.ports import free_port, wait_for_port
from tests.support.processes import die_with_parent


class BackendProcess:
    """The real backend (`python -m pooldesk_server.cli serve`) on a free loopback port."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.extra_env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "backend.log"

    def start(self) -> None:
        env = {
            **os.environ,
            "JWT_SECRET": "test-secret-" + "x" * 40,
            "POOLDESK_ENV_FILE": "/nonexistent",
            # One server serves the whole app suite, and every test registers from 127.0.0.1.
            "POOLDESK_REGISTER_ATTEMPTS_PER_ADDRESS": "100000",
            **self.extra_env,
        }
        serve = f"serve --host 127.0.0.1 --port {self.port} --log-level warning".split()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pooldesk_server.cli", *serve, "--data-dir", str(self.data_dir)],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            start_new_session=True,  # its managed Mosquitto joins this group: stop() ends both
            preexec_fn=die_with_parent(),  # and a killed pytest does not leave it running
        )
        try:
            wait_for_port(self.port, timeout=30)
        except TimeoutError:
            self.stop()
            raise RuntimeError(
                "the backend did not start:\n" + self.log.read_text()[-2000:]
            ) from None

    def stop(self) -> None:
        if self.proc is None:
            return
        group = self.proc.pid  # the session leader's pid is the group id
        self.proc.terminate()  # the backend stops its managed broker on the way out
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)  # anything of this group still running
        self.proc = None
