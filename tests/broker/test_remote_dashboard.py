"""Issue #17 item 4: an app on another computer reaches the broker.

The "other computer" is a network namespace this test makes (iproute2: `ip netns add`, a veth
pair); from the server's side its requests come from a non-loopback address. A real `serve`
listens on the host end of the pair with the TLS LAN listener; inside the namespace the app's
own MQTT link (`pooldesk/core/mqtt_link.py`) signs in over HTTP, takes the credentials the
server answers with and sends a command through the broker and back.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pooldesk_server.broker.service.config import build_backend
from pooldesk_server.broker.service.extension import BrokerExtension
from tests.broker.app_support import PASSWORD, app_settings, open_backend
from tests.broker.test_serve_faults import REPO, _serve, _stop, _wait_healthy
from tests.support.ports import free_port

APP_SCRIPT = r"""
import asyncio, json, sys
import httpx
from pooldesk.core.models import MqttCredentials
from pooldesk.core.mqtt_link import MqttLink

base, password = sys.argv[1], sys.argv[2]

async def main():
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        r = await http.post("/api/auth/register", json={"username": "alice",
            "email": "alice@example.com", "password": password, "deviceId": "ESP-A00001"})
        assert r.status_code == 201, r.text
        token = (await http.post("/api/auth/login",
            json={"username": "alice", "password": password})).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        answers = []

        async def credentials():
            r = await http.get("/api/auth/mqtt-credentials", headers=auth)
            answers.append({"status": r.status_code, "brokerUrl": r.json().get("brokerUrl"),
                            "caCert": bool(r.json().get("caCert"))})
            return MqttCredentials.from_json(r.json())

        got = asyncio.get_running_loop().create_future()
        def on_message(topic, payload, retain):
            if not got.done():
                got.set_result((topic, payload.decode()))
        link = MqttLink(credentials, ["devices/+/pump/set"], on_message=on_message)
        link.start()
        result = {"answers": answers}
        try:
            for _ in range(200):
                if link.connected:
                    break
                await asyncio.sleep(0.05)
            result["connected"] = link.connected
            result["status"] = link.status.detail
            if link.connected:
                topic = link.topic_prefix + "/devices/esp-a00001/pump/set"

                async def echoed():  # resend until the subscription (sent after CONNACK) echoes
                    while not got.done():
                        link.publish(topic, '{"on": true}')
                        await asyncio.wait([got], timeout=0.2)
                    return got.result()

                result["echo"] = await asyncio.wait_for(echoed(), 10)
        finally:
            await link.stop()
        print(json.dumps(result))

asyncio.run(main())
"""


@dataclass
class OtherComputer:
    namespace: str
    server_ip: str  # the host end of the veth pair, as the namespace reaches it
    client_ip: str

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self.namespace, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "QT_QPA_PLATFORM": "offscreen"},
            cwd=REPO,
        )


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)


@pytest.fixture
def other_computer() -> Iterator[OtherComputer]:
    if shutil.which("ip") is None:
        pytest.fail("iproute2 is needed: apt-get install iproute2", pytrace=False)
    tag = secrets.token_hex(3)
    namespace, host_end, ns_end = f"pd-{tag}", f"pdh{tag}", f"pdn{tag}"
    subnet = 16 + int(tag[:2], 16) % 200  # a private /30 of our own, on our own link only
    server_ip, client_ip = f"10.213.{subnet}.1", f"10.213.{subnet}.2"
    steps = [
        ("netns", "add", namespace),
        ("link", "add", host_end, "type", "veth", "peer", "name", ns_end, "netns", namespace),
        ("addr", "add", f"{server_ip}/30", "dev", host_end),
        ("link", "set", host_end, "up"),
        ("-n", namespace, "addr", "add", f"{client_ip}/30", "dev", ns_end),
        ("-n", namespace, "link", "set", ns_end, "up"),
        ("-n", namespace, "link", "set", "lo", "up"),
    ]
    try:
        for step in steps:
            done = _ip(*step)
            if done.returncode != 0:
                pytest.fail(f"ip {' '.join(step)}: {done.stderr.strip()}", pytrace=False)
        yield OtherComputer(namespace, server_ip, client_ip)
    finally:
        _ip("link", "del", host_end)
        _ip("netns", "del", namespace)


def test_an_app_on_another_computer_goes_live_through_the_tls_lan_listener(
    other_computer: OtherComputer, backend_dir: Path
):
    data_dir = backend_dir
    port, lan_port = free_port(), free_port()
    server = _serve(
        data_dir,
        port,
        host=other_computer.server_ip,  # our own namespace's link only
        POOLDESK_MQTT_LAN_HOST=other_computer.server_ip,
        POOLDESK_MQTT_LAN_BIND=other_computer.server_ip,
        POOLDESK_MQTT_LAN_PORT=str(lan_port),
    )
    try:
        _wait_healthy(port, host=other_computer.server_ip)
        done = other_computer.run(
            sys.executable, "-c", APP_SCRIPT, f"http://{other_computer.server_ip}:{port}", PASSWORD
        )
    finally:
        log = _stop(server)
    assert done.returncode == 0, done.stderr[-2000:] + log[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    first = result["answers"][0]
    assert first["brokerUrl"] == f"mqtts://{other_computer.server_ip}:{lan_port}"
    assert first["caCert"] is True  # the private CA comes with it
    assert result["connected"] is True, result
    assert result["echo"][1] == '{"on": true}'


async def _remote_credentials(backend_dir: Path, **env: str) -> httpx.Response:
    settings = app_settings(backend_dir)
    settings = settings.with_changes(broker_env=env)
    extension = BrokerExtension(settings, build_backend(settings, env={}))
    async for backend in open_backend(backend_dir, extension, client="198.51.100.7"):
        auth = await backend.account("alice", "ESP-A00001")
        answer = await backend.http.get("/api/auth/mqtt-credentials", headers=auth)
        if answer.status_code != 200:
            assert await backend.rows() == {}  # nothing was issued
        return answer
    raise AssertionError("backend did not start")


async def test_a_remote_app_without_a_reachable_listener_is_told_what_to_set(backend_dir):
    answer = await _remote_credentials(backend_dir)
    assert answer.status_code == 503
    message = answer.json()["error"]["message"]
    assert "POOLDESK_MQTT_LAN_HOST" in message
    assert "POOLDESK_MQTT_PUBLIC_URL" in message


async def test_a_remote_app_gets_the_public_url_the_operator_set(backend_dir):
    answer = await _remote_credentials(
        backend_dir, POOLDESK_MQTT_PUBLIC_URL="wss://pool.example.net/mqtt"
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["brokerUrl"] == "wss://pool.example.net/mqtt"
    assert answer.json()["caCert"] is None  # a publicly trusted certificate


def test_a_public_url_in_clear_text_is_refused(tmp_path: Path):
    settings = app_settings(tmp_path).with_changes(
        broker_env={"POOLDESK_MQTT_PUBLIC_URL": "ws://pool.example.net/mqtt"}
    )
    assert "mqtts:// or wss://" in (BrokerExtension(settings).config_error or "")
