"""Firmware-update test parts: throw-away signing keys, release bundles built by
`pooldesk-release` from the firmware's own sources (a `.py` bundle for the simulator, which runs
CPython), and a real backend process (`pooldesk-backend serve`, managed Mosquitto) with an
account and a bound, simulated controller."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pooldesk.demo.processes import BackendProcess, backend_environment
from pooldesk_firmware.tools import release
from tests.backend.contract import ContractChecker, response_hook

DEVICE_DIR = release.DEVICE_DIR


def keypair(folder: Path) -> tuple[Path, str]:
    """A throw-away key: (private key file, public key hex)."""
    key = folder / "ota-test-key.pem"
    pub = release.keygen(key)
    return key, pub.read_text().strip()


def source_copy(folder: Path, edit: Callable[[Path], None] | None = None) -> Path:
    """A copy of pooldesk_firmware/device/ to build a release from, optionally changed by `edit`."""
    src = folder / f"src-{secrets.token_hex(3)}"
    shutil.copytree(DEVICE_DIR, src, ignore=shutil.ignore_patterns("__pycache__"))
    if edit is not None:
        edit(src)
    return src


def crash_at_start(src: Path) -> None:
    """A release that fails at start-up: its controller module raises when imported."""
    path = src / "fw_controller.py"
    path.write_text(path.read_text() + '\nraise RuntimeError("release broken on purpose")\n')


def build(folder: Path, key: Path, version: str, **kwargs: Any) -> Path:
    kwargs.setdefault("fmt", "py")
    out = folder / f"fw-{version}-{secrets.token_hex(2)}.zip"
    return release.build(key, version, out, **kwargs)


def backend_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pooldesk_server.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@dataclass
class Owner:
    http: httpx.AsyncClient
    username: str
    token: str
    password: str = ""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def devices(self) -> list[dict]:
        r = await self.http.get("/api/devices", headers=self.auth)
        r.raise_for_status()
        return r.json()["devices"]

    async def device(self, device_id: str) -> dict:
        return next(d for d in await self.devices() if d["deviceId"] == device_id)

    async def start_update(self, device_id: str, version: str | None = None) -> httpx.Response:
        body = {} if version is None else {"version": version}
        return await self.http.post(
            f"/api/devices/{device_id}/firmware-update", json=body, headers=self.auth
        )

    async def wait_update(
        self, device_id: str, states: tuple[str, ...], within: float = 60.0
    ) -> dict:
        """Poll GET /api/devices until the device's update is in one of `states`."""
        deadline = time.monotonic() + within
        seen = None
        while time.monotonic() < deadline:
            fw = (await self.device(device_id))["firmware"]
            seen = fw["update"]
            if seen is not None and seen["state"] in states:
                return fw
            await asyncio.sleep(0.1)
        raise TimeoutError(f"update of {device_id} not in {states} in {within} s: {seen}")

    async def audit(self) -> list[dict]:
        r = await self.http.get("/api/account/audit", headers=self.auth)
        r.raise_for_status()
        return r.json()["entries"]


class Backend:
    """A real `pooldesk-backend serve` (SQLite, managed Mosquitto) knowing the update key."""

    def __init__(self, folder: Path, public_key: str, **extra_env: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.env = backend_environment(folder, secrets.token_hex(32))
        self.env["POOLDESK_OTA_PUBLIC_KEY"] = public_key
        self.env.update(extra_env)
        self.process = BackendProcess(folder, self.env)
        self.contract: ContractChecker | None = None

    async def __aenter__(self) -> Backend:
        await self.process.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.process.stop()

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return backend_cli(self.env, *args, "--data-dir", str(self.process.data_dir))

    async def owner(self, device_id: str) -> Owner:
        """A new account registered with `device_id` as its first device. Every answer its
        client receives is checked against the server's /openapi.json."""
        if self.contract is None:
            async with httpx.AsyncClient(base_url=self.process.url, timeout=10) as http:
                self.contract = ContractChecker((await http.get("/openapi.json")).json())
        http = httpx.AsyncClient(
            base_url=self.process.url,
            timeout=10,
            event_hooks={"response": [response_hook(self.contract)]},
        )
        tag = secrets.token_hex(3)
        account = {
            "username": f"ota-{tag}",
            "email": f"ota-{tag}@example.com",
            "password": f"Pool-{secrets.token_urlsafe(9)}-7a",
        }
        r = await http.post("/api/auth/register", json={**account, "deviceId": device_id})
        assert r.status_code == 201, r.text
        r = await http.post(
            "/api/auth/login",
            json={"username": account["username"], "password": account["password"]},
        )
        r.raise_for_status()
        return Owner(http, account["username"], r.json()["token"], account["password"])

    async def bind(self, owner: Owner, device_id: str) -> dict:
        """The binding the owner's controller needs (its broker login, issued now)."""
        r = await owner.http.post(f"/api/devices/{device_id}/credentials", headers=owner.auth)
        r.raise_for_status()
        c = r.json()
        return {
            "ssid": "PoolNet",
            "password": "poolpass123",
            "broker_url": c["brokerUrl"],
            "mqtt_user": c["mqttUser"],
            "mqtt_password": c["mqttPassword"],
            "client_id": c["clientId"],
            "topic_prefix": c["topicPrefix"],
            "username": owner.username,
            "ca_cert": c.get("caCert"),
        }


def never_online(src: Path) -> None:
    """A release that starts but never reaches the broker: its link waits forever."""
    path = src / "fw_link.py"
    text = path.read_text()
    marker = "    async def run(self):\n"
    assert marker in text
    path.write_text(
        text.replace(marker, marker + "        await asyncio.Event().wait()  # broken on purpose\n")
    )


async def command_pump(owner: Owner, device_id: str, on: bool) -> None:
    """Publish a pump/set as the owner's dashboard does (its own MQTT login)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    r = await owner.http.get("/api/auth/mqtt-credentials", headers=owner.auth)
    r.raise_for_status()
    c = r.json()
    host_port = c["brokerUrl"].split("://", 1)[1]
    host, port = host_port.rsplit(":", 1)

    def publish() -> None:
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2, client_id=c["clientId"]
        )
        client.username_pw_set(c["mqttUser"], c["mqttPassword"])
        client.connect(host, int(port))
        client.loop_start()
        try:
            body = {"cmd_id": secrets.token_hex(4), "on": on}
            topic = f"{c['topicPrefix']}/devices/{device_id.lower()}/pump/set"
            client.publish(topic, json.dumps(body), qos=1).wait_for_publish(10)
        finally:
            client.disconnect()
            client.loop_stop()

    await asyncio.to_thread(publish)
