"""A real `python -m pooldesk_server.cli serve` process, driven with curl as an API user would."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.backend.test_cli import clean_env
from tests.support.ports import free_port, wait_for_port
from tests.support.processes import die_with_parent


@dataclass
class Server:
    port: int
    data_dir: Path
    process: subprocess.Popen[str]

    def curl(self, *args: str) -> dict:
        """Run curl as an API user types it, against this server; return the JSON answer."""
        result = subprocess.run(
            ["curl", "-s", "-S", *[a.replace(":8788", f":{self.port}") for a in args]],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    if shutil.which("curl") is None:
        pytest.fail(
            "curl is needed for the documented session: apt-get install curl", pytrace=False
        )
    port = free_port()
    data_dir = tmp_path / "server-data"
    env = clean_env()
    if database_url.startswith("postgresql"):
        env["DATABASE_URL"] = database_url
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
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=die_with_parent(),
    )
    try:
        wait_for_port(port, timeout=30)
        yield Server(port, data_dir, process)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_seed_curl_session_works_as_written(server: Server, database_url: str):
    registered = server.curl(
        "-X", "POST", "http://localhost:8788/api/auth/register",
        "-H", "Content-Type: application/json",
        "-d", """{
    "username": "testuser",
    "email": "test@example.com",
    "password": "SecurePass123!@#",
    "deviceId": "ESP-A1B2C3"
  }""",
    )  # fmt: skip
    assert registered["ok"] is True
    assert registered["message"] == "Registration successful"
    assert registered["deviceId"] == "ESP-A1B2C3"
    assert registered["username"] == "testuser"

    logged_in = server.curl(
        "-X", "POST", "http://localhost:8788/api/auth/login",
        "-H", "Content-Type: application/json",
        "-d", """{
    "username": "testuser",
    "password": "SecurePass123!@#"
  }""",
    )  # fmt: skip
    assert logged_in["ok"] is True
    assert logged_in["token"].startswith("eyJ")
    assert logged_in["expiresIn"] == 3600
    assert logged_in["user"] == {
        "id": registered["userId"],
        "username": "testuser",
        "email": "test@example.com",
        "deviceId": "ESP-A1B2C3",
    }
    token = logged_in["token"]

    verified = server.curl(
        "http://localhost:8788/api/auth/verify", "-H", f"Authorization: Bearer {token}"
    )
    assert verified["ok"] is True

    logged_out = server.curl(
        "-X", "POST", "http://localhost:8788/api/auth/logout",
        "-H", f"Authorization: Bearer {token}",
    )  # fmt: skip
    assert logged_out == {"ok": True, "message": "Logged out successfully"}
    after = server.curl(
        "http://localhost:8788/api/auth/verify", "-H", f"Authorization: Bearer {token}"
    )
    assert after["ok"] is False
    assert after["error"]["code"] == "unauthorized"

    # The documented troubleshooting case: no Content-Type header gives "Invalid JSON".
    no_header = server.curl(
        "-X", "POST", "http://localhost:8788/api/auth/register", "-d", '{"username": "x"}'
    )
    assert no_header["error"]["code"] == "invalid_json"
    assert no_header["error"]["message"].startswith("Invalid JSON")

    if database_url.startswith("sqlite"):
        assert (server.data_dir / "pooldesk.db").exists()
        assert (server.data_dir / "pooldesk.db-wal").exists(), "SQLite runs in WAL mode"
    server.process.send_signal(signal.SIGINT)
    output, _ = server.process.communicate(timeout=15)
    assert server.process.returncode == 0, output
    assert "JWT_SECRET is not set: using an ephemeral secret" in output
    assert "SecurePass123" not in output
    assert token not in output
    assert "Traceback" not in output
