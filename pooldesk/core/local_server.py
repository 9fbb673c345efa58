"""Run the bundled backend on this computer for a household without a server.

The app writes a per-user service that runs `pooldesk-backend serve` (HTTP on 127.0.0.1, the
managed Mosquitto, the recorder) with the broker's TLS LAN listener open
(`POOLDESK_MQTT_LAN_HOST`, docs/mqtt.md), so the controllers on the home network can reach it.
On Linux it is a systemd user unit, enabled so it starts with the user's session and keeps
running when the window closes. Elsewhere (`systemd_available()` False) the app can only run the
server while it is open (`command()` as a child process); docs/app.md says so.

While this computer is off, the controllers keep their schedules, timers and freeze protection
(they run on the controller); history and remote control wait until it is back.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import platformdirs

from pooldesk.core.paths import write_private

UNIT_NAME = "pooldesk-server.service"
DEFAULT_PORT = 8788
DEFAULT_LAN_PORT = 8883
Runner = Callable[[Sequence[str]], subprocess.CompletedProcess]


@dataclass(frozen=True)
class LocalServer:
    """Where the service's files go (the XDG folders by default: tests pass temporary ones)."""

    config_dir: Path  # ~/.config: systemd/user/<unit>, pooldesk/server.env
    data_dir: Path  # the backend's data folder (database, broker, certificates)
    port: int = DEFAULT_PORT
    lan_host: str = ""  # this computer's address on the home network
    lan_port: int = DEFAULT_LAN_PORT
    lan_bind: str = ""  # empty: the backend's default, every interface (the controllers' side)

    @classmethod
    def default(cls, lan_host: str = "") -> LocalServer:
        return cls(
            config_dir=Path(platformdirs.user_config_dir()),
            data_dir=Path(platformdirs.user_data_dir("pooldesk-backend")),
            lan_host=lan_host,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def unit_path(self) -> Path:
        return self.config_dir / "systemd" / "user" / UNIT_NAME

    @property
    def env_path(self) -> Path:
        return self.config_dir / "pooldesk" / "server.env"

    def command(self) -> list[str]:
        """How the service starts the backend: this Python (or the bundle's own entry)."""
        if getattr(sys, "frozen", False):  # PyInstaller: `pooldesk __backend__` is the backend
            base = [sys.executable, "__backend__"]
        else:
            base = [sys.executable, "-m", "pooldesk_server.cli"]
        return [*base, "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--data-dir", str(self.data_dir)]  # fmt: skip

    def environment(self, jwt_secret: str) -> dict[str, str]:
        # development (the default): production would require a factory manifest for every
        # controller, which a household does not have. The token key is set, never ephemeral.
        env = {"JWT_SECRET": jwt_secret}
        if self.lan_host:
            env["POOLDESK_MQTT_LAN_HOST"] = self.lan_host
            env["POOLDESK_MQTT_LAN_PORT"] = str(self.lan_port)
            if self.lan_bind:
                env["POOLDESK_MQTT_LAN_BIND"] = self.lan_bind
        return env

    def unit_text(self) -> str:
        exec_start = " ".join(_systemd_quote(arg) for arg in self.command())
        return (
            "[Unit]\n"
            "Description=PoolDesk server for the pool controllers on this network\n"
            "After=network-online.target\n"
            "\n"
            "[Service]\n"
            "Type=simple\n"
            f"EnvironmentFile={_systemd_quote(str(self.env_path))}\n"
            f"ExecStart={exec_start}\n"
            "Restart=on-failure\n"
            "RestartSec=5\n"
            "\n"
            "[Install]\n"
            "WantedBy=default.target\n"
        )

    def write(self) -> None:
        """The environment file (0600: it holds the token key; kept across reinstalls so
        sessions survive) and the unit file."""
        secret = read_env(self.env_path).get("JWT_SECRET") or secrets.token_hex(32)
        self.env_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lines = [f"{k}={v}" for k, v in self.environment(secret).items()]
        write_private(self.env_path, "\n".join(lines) + "\n")
        self.unit_path.parent.mkdir(parents=True, exist_ok=True)
        self.unit_path.write_text(self.unit_text(), encoding="utf-8")

    def remove_files(self) -> None:
        """The unit and the environment file; the data folder (accounts, history) stays."""
        for path in (self.unit_path, self.env_path):
            path.unlink(missing_ok=True)

    @property
    def installed(self) -> bool:
        return self.unit_path.is_file()


def install_commands() -> list[list[str]]:
    return [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", UNIT_NAME],
    ]


def remove_commands() -> list[list[str]]:
    return [["systemctl", "--user", "disable", "--now", UNIT_NAME]]


def systemd_available(run: Runner | None = None) -> bool:
    """A systemd user manager answers (not just the systemctl binary being there)."""
    if not sys.platform.startswith("linux") or shutil.which("systemctl") is None:
        return False
    result = (run or _run)(["systemctl", "--user", "is-system-running"])
    return result.returncode == 0 or result.stdout.strip() in ("degraded", "starting")


class ServiceError(Exception):
    """A systemctl step failed; str() says which and what it said."""


def install(server: LocalServer, run: Runner | None = None) -> None:
    """Write the files and enable + start the user service. On failure nothing is left."""
    server.write()
    try:
        for argv in install_commands():
            _checked(argv, run or _run)
    except ServiceError:
        remove(server, run)
        raise


def remove(server: LocalServer, run: Runner | None = None) -> None:
    """Stop and disable the service, then delete its files (the data folder stays)."""
    if server.installed:
        (run or _run)(remove_commands()[0])
    server.remove_files()
    (run or _run)(install_commands()[0])  # daemon-reload: forget the unit


def start_child(server: LocalServer) -> subprocess.Popen:
    """Without systemd: the same command and environment as the unit, as the app's child (it
    stops when the app quits). Its output goes to the data folder's serve.log."""
    server.write()
    env = {**os.environ, **read_env(server.env_path)}
    server.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    log_file = open(server.data_dir / "serve.log", "ab")  # noqa: SIM115 - the child keeps it
    try:
        return subprocess.Popen(server.command(), env=env, stdout=log_file, stderr=log_file)
    finally:
        log_file.close()


async def wait_healthy(url: str, within: float = 60.0) -> bool:
    """True once GET /healthz answers 200 within `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    async with httpx.AsyncClient(timeout=5) as client:
        while asyncio.get_running_loop().time() < deadline:
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.25)
    return False


def read_env(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def lan_address() -> str:
    """This computer's address on the local network (the interface of the default route);
    empty when there is none. No packet is sent: a UDP connect only picks the route."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere for real
        address = probe.getsockname()[0]
    except OSError:
        return ""
    finally:
        probe.close()
    return "" if address.startswith("127.") else address


def _systemd_quote(arg: str) -> str:
    """systemd splits ExecStart like a shell; quote what needs it, and double `%` and `$`."""
    escaped = arg.replace("%", "%%").replace("$", "$$")
    return shlex.quote(escaped) if escaped != shlex.quote(escaped) else escaped


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return subprocess.CompletedProcess(list(argv), 127, "", str(exc))


def _checked(argv: Sequence[str], run: Runner) -> None:
    result = run(argv)
    if result.returncode != 0:
        said = (result.stderr or result.stdout or "").strip().splitlines()[:1]
        raise ServiceError(f"{' '.join(argv)} failed: {said[0] if said else result.returncode}")
