"""Issue #17: real `pooldesk-backend serve` processes on one data folder, a recorder whose login
was taken away, and /healthz telling the truth about the broker and the recorder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.backend.test_cli import clean_env
from tests.broker.app_support import probe_for
from tests.broker.test_faults import PREFIX, paused
from tests.support.ports import free_port, wait_for_port
from tests.support.processes import die_with_parent
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


def _serve(data_dir: Path, port: int, host: str = "127.0.0.1", **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pooldesk_server.cli",
            "serve",
            "--port",
            str(port),
            "--host",
            host,
            "--data-dir",
            str(data_dir),
        ],
        cwd=REPO,
        env=clean_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=die_with_parent(),
    )


def _stop(process: subprocess.Popen[str]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
    out, _ = process.communicate()
    return out


def _broker_pid(data_dir: Path) -> int:
    return int((data_dir / "broker" / "mosquitto.pid").read_text().split()[0])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return ") Z " not in Path(f"/proc/{pid}/stat").read_text()


def _healthz(port: int, host: str = "127.0.0.1") -> httpx.Response:
    return httpx.get(f"http://{host}:{port}/healthz", timeout=5)


def _wait_healthy(port: int, within: float = 30, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if _healthz(port, host).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server on {port} never became healthy")


@pytest.fixture
def first_server(backend_dir: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A real `serve` on `backend_dir` (made 0711, so its broker stays inside it)."""
    data_dir = backend_dir
    port = free_port()
    process = _serve(data_dir, port)
    try:
        wait_for_port(port, timeout=30)
        _wait_healthy(port)
        yield process, port
    finally:
        _stop(process)


def test_a_second_serve_on_a_folder_in_use_refuses_and_leaves_the_first_alone(
    first_server, backend_dir: Path
):
    data_dir = backend_dir
    first, port = first_server
    broker_pid = _broker_pid(data_dir)
    second = _serve(data_dir, free_port())
    try:
        code = second.wait(30)
    except subprocess.TimeoutExpired:
        code = None
    out = _stop(second)
    assert code not in (0, None), out
    assert f"data folder {data_dir} in use by pid {first.pid}" in out
    # The running server kept its broker, its recorder and its health.
    assert _broker_pid(data_dir) == broker_pid
    assert _alive(broker_pid)
    assert _healthz(port).status_code == 200
    assert first.poll() is None


def test_broker_sync_refuses_while_serve_holds_the_folder(first_server, backend_dir: Path):
    data_dir = backend_dir
    first, port = first_server
    broker_pid = _broker_pid(data_dir)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pooldesk_server.cli",
            "broker",
            "sync",
            "--data-dir",
            str(data_dir),
        ],
        cwd=REPO,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"in use by pid {first.pid}" in result.stderr
    assert _alive(broker_pid)
    assert _healthz(port).status_code == 200


async def test_the_recorder_puts_its_own_login_back_when_refused(backend):
    auth = await backend.account("alice", "ESP-A00001")
    recorder = backend.extension.recorder
    assert recorder is not None
    assert recorder.connected
    # Someone (a second server, an operator) deletes the recorder's login: the broker cuts it.
    await backend.broker.delete_login(recorder.login.username)

    async def recorder_back() -> bool:
        return recorder.connected and recorder.login.username in await backend.broker.list_logins()

    await wait_until(recorder_back, within=15)
    device = probe_for(
        (await backend.http.post("/api/devices/ESP-A00001/credentials", headers=auth)).json()
    )
    try:
        assert await device.connect() == 0
        assert await device.publish(f"{PREFIX}/status", b"online", retain=True) == 0

        async def recorded() -> bool:
            devices = (await backend.http.get("/api/devices", headers=auth)).json()["devices"]
            return devices[0]["status"] == "online"

        await wait_until(recorded)
    finally:
        device.close()


async def test_healthz_reports_a_paused_broker_and_a_lost_recorder(backend):
    healthy = await backend.http.get("/healthz")
    assert healthy.status_code == 200
    assert healthy.json()["components"]["broker"]["ok"] is True
    assert healthy.json()["components"]["recorder"]["ok"] is True

    async def unhealthy() -> bool:
        return (await backend.http.get("/healthz")).status_code == 503

    with paused(backend.broker):
        await wait_until(unhealthy, within=15)
        down = (await backend.http.get("/healthz")).json()
        assert down["components"]["broker"]["ok"] is False
        assert "broker" in down["error"]["message"]

    async def healthy_again() -> bool:
        return (await backend.http.get("/healthz")).status_code == 200

    await wait_until(healthy_again, within=15)
    # A recorder that stopped shows as well.
    await backend.extension.recorder.stop()
    down = await backend.http.get("/healthz")
    assert down.status_code == 503
    assert down.json()["components"]["recorder"]["ok"] is False


def test_broker_settings_come_from_the_dotenv_file_too(tmp_path: Path):
    """A `.env` saying POOLDESK_BROKER=mosquitto builds the external broker (here: without its
    admin login, so the command says what is missing) instead of starting a managed one."""
    (tmp_path / ".env").write_text("POOLDESK_BROKER=mosquitto\nMQTT_BROKER_URL=mqtt://x:1883\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pooldesk_server.cli",
            "broker",
            "sync",
            "--data-dir",
            str(tmp_path / "d"),
        ],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout
    assert "MOSQUITTO_ADMIN_USER" in result.stderr
    assert not (tmp_path / "d" / "broker").exists()


def test_an_unknown_broker_kind_stops_serve_with_a_clear_message(tmp_path: Path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pooldesk_server.cli",
            "serve",
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path / "d"),
        ],
        cwd=tmp_path,
        env=clean_env(POOLDESK_BROKER="mosquito"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "POOLDESK_BROKER='mosquito' is not a broker back end" in result.stderr


def test_a_port_in_use_is_reported_before_the_broker_starts(backend_dir: Path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pooldesk_server.cli",
                "serve",
                "--port",
                str(taken.getsockname()[1]),
                "--data-dir",
                str(backend_dir),
            ],
            cwd=REPO,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1, result.stderr[-800:]
    assert "already in use" in result.stderr.lower()
    assert "Traceback" not in result.stderr
    assert not (backend_dir / "broker").exists()  # nothing was started


def test_sigterm_stops_serve_with_status_0_and_takes_its_broker(first_server, backend_dir: Path):
    first, _port = first_server
    broker_pid = _broker_pid(backend_dir)
    first.send_signal(signal.SIGTERM)
    assert first.wait(20) == 0
    for _ in range(100):
        if not _alive(broker_pid):
            break
        time.sleep(0.05)
    assert not _alive(broker_pid)
