"""Shared test parts for the app: a restartable Mosquitto, and a paho
client that behaves like a pool controller (docs/mqtt.md)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from tests.support.ports import free_port, wait_for_port
from tests.support.processes import die_with_parent


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Mosquitto:
    """A Mosquitto on fixed loopback ports that a test can stop and start again.

    With `transports=True` it also listens with websockets (`ws_port`), TLS (`tls_port`) and
    websockets over TLS (`wss_port`), using a private CA (`ca_pem`) and a certificate for
    `localhost`.
    """

    def __init__(
        self, workdir: Path, *, passwords: dict[str, str] | None = None, transports: bool = False
    ) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.ca_pem = ""
        lines = [f"listener {self.port} 127.0.0.1", "set_tcp_nodelay true"]
        if transports:
            self.ws_port, self.tls_port, self.wss_port = free_port(), free_port(), free_port()
            ca, cert, key = write_test_certificates(workdir)
            self.ca_pem = ca.read_text()
            tls = [f"cafile {ca}", f"certfile {cert}", f"keyfile {key}"]
            lines += [f"listener {self.ws_port} 127.0.0.1", "protocol websockets"]
            lines += [f"listener {self.tls_port} 127.0.0.1", *tls]
            lines += [f"listener {self.wss_port} 127.0.0.1", "protocol websockets", *tls]
        if passwords:
            pwfile = workdir / "passwd"
            pwfile.write_text("")
            for user, password in passwords.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(pwfile), user, password],
                    check=True,
                    capture_output=True,
                )
            lines += ["allow_anonymous false", f"password_file {pwfile}"]
        else:
            lines.append("allow_anonymous true")
        if os.geteuid() == 0:
            lines.append("user root")
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen(
            [exe, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),
        )
        wait_for_port(self.port)
        for port in (getattr(self, "ws_port", 0), getattr(self, "tls_port", 0)):
            if port:
                wait_for_port(port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def write_test_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A throw-away CA and a server certificate for localhost / 127.0.0.1 (PEM files)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PoolDesk test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName(
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(san, critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    paths = folder / "ca.pem", folder / "server.pem", folder / "server-key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return paths


class _Message:
    def __init__(self, payload: bytes, topic: str) -> None:
        self.payload = payload
        self.topic = topic


class FakeController:
    """A paho client publishing like the firmware: status with a will, retained pump state that
    echoes each command's cmd_id, telemetry and alerts. `respond=False` makes it ignore commands.
    """

    def __init__(
        self,
        port: int,
        prefix: str,
        *,
        username: str | None = None,
        password: str | None = None,
        keepalive: int = 5,
        client_id: str | None = None,
    ) -> None:
        self.prefix = prefix  # users/<u>/devices/<id>
        self.respond = True
        self.pump = {"on": False, "mode": "schedule", "until": None, "cmd_id": None}
        self.commands: list[dict] = []
        self._connected = threading.Event()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"sim-{prefix[-10:]}",
            protocol=paho.MQTTv5,
        )
        if username:
            self.client.username_pw_set(username, password)
        self.client.will_set(f"{prefix}/status", "offline", qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.port = port
        self.keepalive = keepalive

    def start(self) -> None:
        self.client.connect("127.0.0.1", self.port, self.keepalive)
        self.client.loop_start()
        if not self._connected.wait(5):
            raise TimeoutError("the fake controller could not connect")

    def _on_connect(self, client, _ud, _flags, reason, _props) -> None:
        client.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.subscribe([(f"{self.prefix}/pump/set", 1), (f"{self.prefix}/schedule/set", 1)])
        client.publish(f"{self.prefix}/status", "online", qos=1, retain=True)
        self.publish_pump()
        self._connected.set()

    def _on_message(self, _client, _ud, msg) -> None:
        command = json.loads(msg.payload)
        self.commands.append(command)
        if not self.respond:
            return
        if msg.topic.endswith("/schedule/set"):
            self.client.publish(
                f"{self.prefix}/schedule",
                json.dumps({**command, "ts": now_iso()}),
                qos=1,
                retain=True,
            )
            return
        mode = command.get("mode", "manual")
        if mode == "timer":
            ends = datetime.now(UTC) + timedelta(seconds=int(command.get("duration_s") or 0))
            until = ends.isoformat(timespec="milliseconds").replace("+00:00", "Z")
            self.pump.update(on=True, mode="timer", until=until)
        elif mode == "schedule":
            self.pump.update(mode="schedule", until=None)
        else:
            self.pump.update(on=bool(command.get("on")), mode="manual", until=None)
        self.pump["cmd_id"] = command.get("cmd_id")
        self.publish_pump()

    def answer(self, command: dict) -> None:
        """Apply a command that arrived while `respond` was off, as if it came in now."""
        self.respond, respond = True, self.respond
        try:
            self._on_message(
                self.client, None, _Message(json.dumps(command).encode(), f"{self.prefix}/pump/set")
            )
        finally:
            self.respond = respond

    def publish_pump(self) -> None:
        self.client.publish(
            f"{self.prefix}/pump/state",
            json.dumps({**self.pump, "ts": now_iso()}),
            qos=1,
            retain=True,
        )

    def telemetry(self, water_c: float | None, air_c: float | None = None) -> None:
        body = {"water_c": water_c, "air_c": air_c, "ts": now_iso()}
        self.client.publish(f"{self.prefix}/telemetry", json.dumps(body), qos=1)

    def alert(
        self, alert_id: str, message: str | None, severity: str = "warning", **fields: object
    ) -> None:
        """Raise an alert (`fields`: the payload's other fields, `water_c`); None clears it."""
        payload = (
            ""
            if message is None
            else json.dumps(
                {
                    "id": alert_id,
                    "severity": severity,
                    "message": message,
                    "since": now_iso(),
                    "ts": now_iso(),
                    **fields,
                }
            )
        )
        self.client.publish(f"{self.prefix}/alert/{alert_id}", payload, qos=1, retain=True)

    def vanish(self) -> None:
        """Drop off the network without a goodbye: the broker publishes the will."""
        self.client.loop_stop()
        sock = self.client.socket()
        if isinstance(sock, socket.socket):  # TCP (paho's type covers its websocket wrapper too)
            sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.client.disconnect()
        self.client.loop_stop()


async def issued_device_login(client, device_id: str) -> dict:
    """FakeController arguments from the device login the backend issues
    (`POST /api/devices/{id}/credentials`): its broker port, topic prefix, user, password and client
    id, so the managed broker's rights apply to the stand-in as to the firmware."""
    issued = await client.device_credentials(device_id)
    port = urlsplit(issued["brokerUrl"]).port
    assert port is not None, issued["brokerUrl"]
    return {
        "port": port,
        "prefix": issued["topicPrefix"],
        "username": issued["mqttUser"],
        "password": issued["mqttPassword"],
        "client_id": issued["clientId"],
    }


_counter = 0


def unique_user() -> dict[str, str]:
    """A fresh account's fields; device ids differ per call so registrations never clash."""
    global _counter
    _counter += 1
    stamp = f"{os.getpid() % 4096:03x}{_counter:03x}"[-6:].upper()
    return {
        "username": f"user{stamp.lower()}",
        "email": f"u{stamp.lower()}@example.com",
        "password": "Blue-Lagoon-2026!",
        "device_id": f"ESP-{stamp}",
    }


async def register_user(url: str) -> dict[str, str]:
    """A fresh account with its own device, registered on the backend at `url`."""
    from pooldesk.core.backend_client import BackendClient

    user = unique_user()
    client = BackendClient(url)
    await client.register(user["username"], user["email"], user["password"], user["device_id"])
    await client.aclose()
    return user


def switch_pump(app, card, qtbot) -> None:
    """Click the card's Turn on/off; when the pump follows its schedule the card first asks
    "Pause the schedule?": answer it with the confirm button."""
    from PySide6.QtCore import Qt

    before = app.dashboard.dialog
    qtbot.mouseClick(card.toggle, Qt.MouseButton.LeftButton)
    dialog = app.dashboard.dialog
    if dialog is not None and dialog is not before and dialog.isVisible():
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
