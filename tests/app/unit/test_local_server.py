"""'Run the server on this computer': the systemd user unit and its environment file written
to and removed from a temporary XDG config folder, the systemctl commands, and a real
`pooldesk-backend serve` started exactly as the unit starts it (its ExecStart and
EnvironmentFile), answering on loopback with its TLS listener open for the controllers."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import ssl
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from pooldesk.core import local_server as ls
from tests.support.ports import free_port, wait_for_port
from tests.support.processes import die_with_parent


def server_in(tmp_path: Path, **kwargs) -> ls.LocalServer:
    return ls.LocalServer(config_dir=tmp_path / "config", data_dir=tmp_path / "data", **kwargs)


def unit_fields(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_unit_and_environment_files_are_written_then_removed(tmp_path: Path) -> None:
    server = server_in(tmp_path, lan_host="192.168.1.20")
    server.write()
    assert server.unit_path == tmp_path / "config/systemd/user/pooldesk-server.service"
    fields = unit_fields(server.unit_path.read_text())
    assert fields["WantedBy"] == "default.target"
    assert fields["Restart"] == "on-failure"
    assert shlex.split(fields["ExecStart"])[-7:] == [
        "serve", "--host", "127.0.0.1", "--port", "8788", "--data-dir", str(tmp_path / "data"),
    ]  # fmt: skip
    env = ls.read_env(Path(fields["EnvironmentFile"]))
    assert env["POOLDESK_MQTT_LAN_HOST"] == "192.168.1.20"
    assert len(env["JWT_SECRET"]) == 64
    assert stat.S_IMODE(server.env_path.stat().st_mode) == 0o600  # it holds the token key
    secret = env["JWT_SECRET"]
    server.write()  # written again (a new LAN address): sessions survive, same key
    assert ls.read_env(server.env_path)["JWT_SECRET"] == secret

    server.remove_files()
    assert not server.unit_path.exists()
    assert not server.env_path.exists()
    assert not server.installed


def test_the_systemctl_commands() -> None:
    assert ls.install_commands() == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", "pooldesk-server.service"],
    ]
    assert ls.remove_commands() == [
        ["systemctl", "--user", "disable", "--now", "pooldesk-server.service"]
    ]


def test_a_failed_enable_leaves_nothing_behind(tmp_path: Path) -> None:
    """Where the user manager is not running (as here), the real systemctl fails: no files stay."""
    server = server_in(tmp_path)
    if ls.systemd_available():
        pytest.fail("this test needs a machine without a systemd user manager")
    with pytest.raises(ls.ServiceError, match="systemctl --user"):
        ls.install(server)
    assert not server.unit_path.exists()
    assert not server.env_path.exists()


def test_paths_with_spaces_and_percent_survive_the_unit_quoting(tmp_path: Path) -> None:
    server = ls.LocalServer(config_dir=tmp_path / "c", data_dir=tmp_path / "my pool 100%")
    exec_start = unit_fields(server.unit_text())["ExecStart"]
    argv = [a.replace("%%", "%") for a in shlex.split(exec_start)]
    assert argv[-1] == str(tmp_path / "my pool 100%")


def test_serve_started_as_the_unit_starts_it(tmp_path: Path) -> None:
    port, lan_port = free_port(), free_port()
    server = server_in(tmp_path, port=port, lan_host="127.0.0.1", lan_port=lan_port,
                       lan_bind="127.0.0.1")  # fmt: skip
    server.write()
    fields = unit_fields(server.unit_path.read_text())
    argv = [a.replace("%%", "%").replace("$$", "$") for a in shlex.split(fields["ExecStart"])]
    env = {**os.environ, **ls.read_env(Path(fields["EnvironmentFile"]))}
    process = subprocess.Popen(
        argv,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent(),
    )
    try:
        wait_for_port(port, timeout=60)
        deadline = time.monotonic() + 30
        while True:
            health = httpx.get(f"{server.url}/healthz", timeout=5)
            if health.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert health.json()["status"] == "ok", health.text
        wait_for_port(lan_port, timeout=30)
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the handshake only
        with (
            socket.create_connection(("127.0.0.1", lan_port), timeout=5) as raw,
            context.wrap_socket(raw) as tls,
        ):
            assert tls.version() in ("TLSv1.2", "TLSv1.3")  # TLS only for the controllers
    finally:
        process.send_signal(signal.SIGTERM)  # what systemd sends on stop
        assert process.wait(30) == 0


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    """`systemd-analyze verify` (the packaged systemd's own parser) accepts the unit, also with
    a space and a % in the data folder's path."""
    import shutil

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is not installed (package systemd)", pytrace=False)
    server = ls.LocalServer(config_dir=tmp_path / "c", data_dir=tmp_path / "pool data 100%",
                            lan_host="192.168.1.20")  # fmt: skip
    server.write()
    result = subprocess.run(
        [analyze, "verify", str(server.unit_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "pooldesk-server.service" not in result.stderr, result.stderr  # no warnings about it
