"""Start a real `python -m pooldesk_server.cli serve` for a test, with extra environment."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.backend.test_cli import clean_env
from tests.support.ports import free_port, wait_for_port
from tests.support.processes import die_with_parent


@dataclass
class Serve:
    port: int
    data_dir: Path
    database_url: str
    process: subprocess.Popen[str]
    log: Path

    def output(self) -> str:
        return self.log.read_text()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def running_serve(database_url: str, tmp_path: Path, **env: str) -> Iterator[Serve]:
    port = free_port()
    data_dir = tmp_path / "serve-data"
    environment = clean_env(**env)
    if database_url.startswith("postgresql"):
        environment["DATABASE_URL"] = database_url
    else:
        database_url = f"sqlite+aiosqlite:///{data_dir / 'pooldesk.db'}"
    log = tmp_path / "serve.log"
    log_file = log.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pooldesk_server.cli",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        cwd=tmp_path,
        env=environment,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=die_with_parent(),
    )
    try:
        wait_for_port(port, timeout=30)
        yield Serve(port, data_dir, database_url, process, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log_file.close()
