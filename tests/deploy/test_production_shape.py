"""The production shape of docs/deploy.md, brought up on this machine by following the doc.

Caddy (Debian's package, its internal CA) in front of two `serve` instances on one PostgreSQL,
Mosquitto with dynamic security shared by both; the documented curl session over HTTPS with real
`curl --cacert`, a dashboard over wss through Caddy, a device on the broker, round robin and a
restart without a failed request, backup, upgrade and rollback.

The shell blocks of docs/deploy.md marked `<!-- deploy-test: NAME -->` are run as written, after
the rewrites in `REWRITES` (paths under a temporary root, one user, the test's ports and CA).
The instances run the command line of deploy/pooldesk@.service's ExecStart.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.backend.postgres import postgres_cluster
from tests.support.ports import free_port, wait_for_port

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "deploy.md"
DEPLOY = REPO / "deploy"
VENV = Path(sys.prefix)
CLAIM_CODE = "K7Q2-M9X4-P3W8-H6T5"
SEED_PASSWORD = "SecurePass123!@#"
BLOCK = re.compile(r"<!-- deploy-test: ([\w-]+) -->\n```sh\n(.*?)```", re.S)


def doc_blocks() -> dict[str, str]:
    return dict(BLOCK.findall(DOC.read_text()))


def unit_lines(key: str) -> list[str]:
    return [
        line.split("=", 1)[1]
        for line in (DEPLOY / "pooldesk@.service").read_text().splitlines()
        if line.startswith(f"{key}=")
    ]


class Shape:
    """The temporary root and the ports; `rewrite` maps the doc's text onto them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.https, self.http, self.admin = free_port(), free_port(), free_port()
        self.mqtt, self.mqtt_ws, self.mqtt_tls = free_port(), free_port(), free_port()
        self.instances = (free_port(), free_port())
        self.caddy_data = root / "caddy"

    @property
    def ca(self) -> Path:
        return self.caddy_data / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    @property
    def site(self) -> str:
        return f"https://localhost:{self.https}"

    def rewrites(self) -> list[tuple[str, str]]:
        r = str(self.root)
        return [
            ("/opt/pooldesk", f"{r}/opt/pooldesk"),
            ("/etc/pooldesk", f"{r}/etc/pooldesk"),
            ("/var/lib/pooldesk", f"{r}/var/lib/pooldesk"),
            ("/var/lib/mosquitto", f"{r}/var/lib/mosquitto"),
            ("/etc/mosquitto", f"{r}/etc/mosquitto"),
            ("/var/backups/pooldesk", f"{r}/var/backups/pooldesk"),
            ("/root/", f"{r}/root/"),
            ("sudo -u pooldesk ", ""),  # the test is one user
            ("chown pooldesk:pooldesk ", ": "),  # no `pooldesk` system user on the test machine
            ("chgrp pooldesk ", ": "),
            ("deploy/", f"{DEPLOY}/"),
            ("https://pool.example.com", self.site),
            ("pool.example.com", "localhost"),
            ("curl ", f"curl --cacert {self.ca} "),
        ]

    def rewrite(self, text: str) -> str:
        """One pass: text a rule wrote is never rewritten again."""
        rules = dict(self.rewrites())
        pattern = "|".join(re.escape(old) for old in sorted(rules, key=len, reverse=True))
        return re.sub(pattern, lambda m: rules[m.group(0)], text)


def run_blocks(shape: Shape, names: list[str], env: dict[str, str]) -> str:
    blocks = doc_blocks()
    script = "set -euo pipefail\n" + "\n".join(
        shape.rewrite(blocks[name]) for name in ("pd", *names)
    )
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{names}: {done.stdout}\n{done.stderr}"
    return done.stdout


@contextmanager
def process(argv: list[str], log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    with log.open("a") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def base_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("POOLDESK_", "MQTT_", "MOSQUITTO_"))
        and k not in {"JWT_SECRET", "DATABASE_URL", "REQUIRE_DEVICE_MANIFEST"}
    }
    env["PATH"] = f"{VENV / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    env.update(extra)
    return env


def set_values(path: Path, values: dict[str, str]) -> None:
    """What the person does in an editor: fill in the CHANGE-ME values."""
    lines = []
    for line in path.read_text().splitlines():
        key = line.split("=", 1)[0]
        lines.append(f"{key}={values.pop(key)}" if key in values and "=" in line else line)
    assert not values, f"not in the example file: {sorted(values)}"
    path.write_text("\n".join(lines) + "\n")


def curl(shape: Shape, *args: str) -> dict:
    done = subprocess.run(
        ["curl", "-sS", "--cacert", str(shape.ca), *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def until(check, within: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


class Client:
    """A paho client that records what it receives."""

    def __init__(
        self,
        creds: dict,
        *,
        wss: tuple[Path, int] | None = None,
        tls: tuple[Path, int] | None = None,
        port: int = 0,
    ):
        transport = "websockets" if wss else "tcp"
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=creds["clientId"],
            protocol=mqtt.MQTTv5,
            transport=transport,
        )
        self.client.username_pw_set(creds["mqttUser"], creds["mqttPassword"])
        self.connected, self.gone, self.messages = threading.Event(), threading.Event(), []
        self.client.on_disconnect = lambda *_: self.gone.set()
        self.client.on_connect = lambda c, u, f, reason, p: (
            self.connected.set() if reason.value == 0 else None
        )
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload))
        if wss:
            ca, https_port = wss
            self.client.ws_set_options(path="/mqtt")
            self.client.tls_set(ca_certs=str(ca))
            self.client.connect("localhost", https_port)
        else:
            if tls:
                ca, port = tls
                self.client.tls_set(ca_certs=str(ca))
            self.client.connect("localhost" if tls else "127.0.0.1", port)
        self.client.loop_start()
        assert self.connected.wait(10), "MQTT connection refused or timed out"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.mark.timeout(600)  # PostgreSQL, Mosquitto, two instances and Caddy: about 60 s alone
def test_the_documented_production_shape(tmp_path: Path):
    for tool in ("caddy", "curl", "mosquitto", "mosquitto_ctrl"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            pytest.fail(f"{tool} is not installed (make setup installs it)", pytrace=False)
    shape = Shape(tmp_path / "root")
    (shape.root / "var/lib/mosquitto").mkdir(parents=True)  # the mosquitto package makes it
    (shape.root / "root").mkdir()
    admin_password = secrets.token_urlsafe(24)
    blocks = doc_blocks()
    # Every marked block, in the doc's order, is one this test runs (a new one needs a step here).
    assert list(blocks) == [
        "folders",
        "switch",
        "pd",
        "mosquitto",
        "mosquitto-tls",
        "settings",
        "migrate",
        "check",
        "backup",
        "upgrade",
        "rollback",
    ]

    with ExitStack() as stack:
        cluster = stack.enter_context(postgres_cluster())
        cluster.psql("postgres", "CREATE DATABASE pooldesk")
        env = base_env(VERSION="0.1.0", MOSQUITTO_ADMIN_PASSWORD=admin_password)

        # 1-2: folders, a release (the test's virtual environment stands in for the installed
        # release: `pip install` of the package is not run), the `current` link.
        run_blocks(shape, ["folders"], env)
        for release in ("0.1.0", "0.1.1"):
            (shape.root / "opt/pooldesk/releases" / release).symlink_to(VENV)
        run_blocks(shape, ["switch"], env)

        # 4: Mosquitto, with the shipped configuration (ports and paths of the test).
        run_blocks(shape, ["mosquitto"], env)
        run_blocks(shape, ["mosquitto-tls"], env)
        conf = shape.rewrite((DEPLOY / "mosquitto-pooldesk.conf").read_text())
        conf = conf.replace("listener 1883 ", f"listener {shape.mqtt} ")
        conf = conf.replace("listener 9001 ", f"listener {shape.mqtt_ws} ")
        conf = conf.replace("listener 8883\n", f"listener {shape.mqtt_tls} 127.0.0.1\n")
        conf += "user root\n"  # the test runs as root; the package runs it as `mosquitto`
        (tmp_path / "mosquitto.conf").write_text(conf)
        stack.enter_context(
            process(
                ["mosquitto", "-c", str(tmp_path / "mosquitto.conf")],
                tmp_path / "mosquitto.log",
                env,
            )
        )
        wait_for_port(shape.mqtt)

        # 5: settings, filled in as the doc says.
        run_blocks(shape, ["settings"], env)
        env_file = shape.root / "etc/pooldesk/pooldesk.env"
        assert env_file.stat().st_mode & 0o777 == 0o640
        env_file.write_text(shape.rewrite(env_file.read_text()))
        set_values(
            env_file,
            {
                "JWT_SECRET": secrets.token_hex(32),
                "DATABASE_URL": cluster.url("pooldesk"),
                "MQTT_BROKER_URL": f"mqtt://127.0.0.1:{shape.mqtt}",
                "MOSQUITTO_ADMIN_PASSWORD": admin_password,
                "MOSQUITTO_ADMIN_PORT": str(shape.mqtt),
            },
        )

        # 6: schema and the factory manifest.
        (shape.root / "root/factory-manifest.csv").write_text(
            f"deviceId,claimCode\nESP-A1B2C3,{CLAIM_CODE}\n"
        )
        said = run_blocks(shape, ["migrate"], env)
        assert "is at schema" in said
        assert "1 devices added" in said

        # 7: the two instances, as the unit starts them.
        [exec_start] = unit_lines("ExecStart")
        unit_env = dict(line.split("=", 1) for line in unit_lines("Environment"))
        instances = {}
        for port in shape.instances:
            argv = shape.rewrite(exec_start).replace("%i", str(port)).split()
            instance_env = base_env(
                **{k: shape.rewrite(v).replace("%i", str(port)) for k, v in unit_env.items()}
            )
            log = tmp_path / f"pooldesk-{port}.log"
            instances[port] = (
                argv,
                instance_env,
                log,
                stack.enter_context(process(argv, log, instance_env)),
            )
        for port in shape.instances:
            wait_for_port(port, timeout=30)

        # Caddy with the shipped Caddyfile; only the values of /etc/default/caddy differ.
        caddy_env = base_env(
            POOLDESK_SITE="localhost",
            POOLDESK_TLS="internal",
            POOLDESK_UPSTREAMS=" ".join(f"127.0.0.1:{p}" for p in shape.instances),
            POOLDESK_MQTT_WS=f"127.0.0.1:{shape.mqtt_ws}",
            POOLDESK_HTTP_PORT=str(shape.http),
            POOLDESK_HTTPS_PORT=str(shape.https),
            CADDY_ADMIN=f"127.0.0.1:{shape.admin}",
            XDG_DATA_HOME=str(shape.caddy_data / "data"),
            XDG_CONFIG_HOME=str(shape.caddy_data / "config"),
            HOME=str(shape.caddy_data),
        )
        validated = subprocess.run(
            ["caddy", "validate", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
            env=caddy_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert validated.returncode == 0, validated.stderr
        stack.enter_context(
            process(
                ["caddy", "run", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
                tmp_path / "caddy.log",
                caddy_env,
            )
        )
        wait_for_port(shape.https, timeout=30)
        until(shape.ca.exists, what="Caddy's internal CA")
        until(
            lambda: (
                subprocess.run(
                    [
                        "curl",
                        "-fsS",
                        "-o",
                        "/dev/null",
                        "--cacert",
                        str(shape.ca),
                        f"{shape.site}/healthz",
                    ],
                    capture_output=True,
                    timeout=30,
                ).returncode
                == 0
            ),
            what="Caddy's certificate for the site and a healthy backend",
        )

        assert '"ok":true' in run_blocks(shape, ["check"], env).replace(" ", "")

        # The documented curl session over HTTPS (register with the device's claim code).
        site = shape.site
        registered = curl(
            shape,
            "-X",
            "POST",
            f"{site}/api/auth/register",
            "-H",
            "Content-Type: application/json",
            "-d",
            json.dumps(
                {
                    "username": "testuser",
                    "email": "test@example.com",
                    "password": SEED_PASSWORD,
                    "deviceId": "ESP-A1B2C3",
                    "claimCode": CLAIM_CODE,
                }
            ),
        )
        assert registered["ok"] is True
        assert registered["username"] == "testuser"
        signed_in = curl(
            shape,
            "-X",
            "POST",
            f"{site}/api/auth/login",
            "-H",
            "Content-Type: application/json",
            "-H",
            "X-Forwarded-For: 203.0.113.99",  # a client's own claim
            # From another loopback address than the one Caddy uses to reach the backend.
            "--interface",
            "127.0.0.2",
            "-d",
            json.dumps({"username": "testuser", "password": SEED_PASSWORD}),
        )
        token = signed_in["token"]
        bearer = f"Authorization: Bearer {token}"
        creds = curl(shape, "-X", "GET", f"{site}/api/auth/mqtt-credentials", "-H", bearer)
        assert creds["ok"] is True
        assert creds["topicPrefix"] == "users/testuser"
        # Caddy replaced the client's X-Forwarded-For with the address it saw, and the backend
        # believed Caddy (POOLDESK_TRUSTED_PROXIES), not the client and not its TCP peer.
        sessions = curl(shape, f"{site}/api/auth/sessions", "-H", bearer)["sessions"]
        assert [s["clientAddress"] for s in sessions] == ["127.0.0.2"]
        assert (
            subprocess.run(
                [
                    "curl",
                    "-s",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                    "--cacert",
                    str(shape.ca),
                    f"{site}/metrics",
                ],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout
            == "404"
        )

        # A dashboard over wss through Caddy; the device on the broker's listener.
        device = curl(
            shape, "-X", "POST", f"{site}/api/devices/ESP-A1B2C3/credentials", "-H", bearer
        )
        dashboard = Client(creds, wss=(shape.ca, shape.https))
        dashboard.client.subscribe(f"{device['topicPrefix']}/#", qos=1)
        # The device over Mosquitto's TLS listener, verifying it with the `caCert` it was given.
        assert device["caCert"].startswith("-----BEGIN CERTIFICATE-----")
        device_ca = tmp_path / "device-ca.pem"
        device_ca.write_text(device["caCert"])
        board = Client(device, tls=(device_ca, shape.mqtt_tls))
        board.client.publish(f"{device['topicPrefix']}/status", b"online", qos=1, retain=True)
        until(
            lambda: (f"{device['topicPrefix']}/status", b"online") in dashboard.messages,
            what="the device's status at the dashboard over wss",
        )
        # One instance's recorder stored it (both share one subscription).
        until(
            lambda: "ESP-A1B2C3" in run_blocks_text(shape, env, "pd devices list --online"),
            what="the device listed online",
        )
        dashboard.close()
        board.close()

        # Both instances served; a restart of one fails no request (Caddy tries the other).
        for _ in range(6):
            curl(shape, f"{site}/api/auth/verify", "-H", bearer)
        for port in shape.instances:
            scraped = subprocess.run(
                ["curl", "-fsS", f"http://127.0.0.1:{port}/metrics"],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout
            assert re.search(r'route="/api/auth/verify",status="200"\} [1-9]', scraped), port

        # 9-11: backup, upgrade (restart one instance at a time), rollback.
        run_blocks(shape, ["backup"], env)
        assert list((shape.root / "var/backups/pooldesk").glob("pooldesk-*.tar.gz"))
        said = run_blocks(shape, ["upgrade"], {**env, "NEW": "0.1.1"})
        assert (shape.root / "var/backups/pooldesk/before-0.1.1.tar.gz").exists()
        assert os.readlink(shape.root / "opt/pooldesk/current").endswith("0.1.1")
        first = shape.instances[0]
        argv, instance_env, log, proc = instances[first]
        restarted = restart_instance(proc, first, argv, instance_env, log, shape, bearer)
        stack.callback(stop, restarted)
        run_blocks(
            shape,
            ["rollback"],
            {**env, "NEW": "0.1.1", "PREVIOUS": str(shape.root / "opt/pooldesk/releases/0.1.0")},
        )
        assert os.readlink(shape.root / "opt/pooldesk/current").endswith("0.1.0")

        curl(shape, "-X", "POST", f"{site}/api/auth/logout", "-H", bearer)
        ended = subprocess.run(
            [
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--cacert",
                str(shape.ca),
                f"{site}/api/auth/verify",
                "-H",
                bearer,
            ],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
        assert ended == "401"

        # The operator disables the account while both instances run: whichever instance
        # takes the request cuts the live wss connection at the shared broker.
        again = curl(
            shape,
            "-X",
            "POST",
            f"{site}/api/auth/login",
            "-H",
            "Content-Type: application/json",
            "-d",
            json.dumps({"username": "testuser", "password": SEED_PASSWORD}),
        )
        bearer = f"Authorization: Bearer {again['token']}"
        creds = curl(shape, f"{site}/api/auth/mqtt-credentials", "-H", bearer)
        dashboard = Client(creds, wss=(shape.ca, shape.https))
        said = run_blocks_text(shape, env, "pd users disable testuser")
        assert "disabled testuser" in said, said
        assert dashboard.gone.wait(10), "the disabled user's wss connection was not cut"
        refused = curl(
            shape,
            "-X",
            "POST",
            f"{site}/api/auth/login",
            "-H",
            "Content-Type: application/json",
            "-d",
            json.dumps({"username": "testuser", "password": SEED_PASSWORD}),
        )
        assert refused["error"]["code"] == "account_disabled"
        dashboard.close()


def run_blocks_text(shape: Shape, env: dict[str, str], command: str) -> str:
    script = "set -euo pipefail\n" + shape.rewrite(doc_blocks()["pd"]) + "\n" + command
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    return done.stdout


def restart_instance(proc, port, argv, env, log, shape: Shape, bearer: str):
    """`systemctl restart pooldesk@<port>`: stop the instance (SIGINT, the unit's KillSignal),
    start it again; requests through Caddy meanwhile all succeed."""
    stop(proc)
    failures = 0
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        code = subprocess.run(
            [
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--cacert",
                str(shape.ca),
                f"{shape.site}/api/auth/verify",
                "-H",
                bearer,
            ],
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout
        failures += code != "200"
    assert failures == 0, f"{failures} request(s) failed while instance {port} was down"
    with log.open("a") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, text=True)
    wait_for_port(port, timeout=30)
    return proc


def test_the_settings_file_explains_every_setting_the_backend_reads():
    """Every variable the backend reads (`env.get("X")`, `_int(env, "X", ...)`, `env["X"]`, ...) is
    in deploy/pooldesk.env.example, with a comment above it or in the list of other back ends."""
    read = set()
    for source in (REPO / "pooldesk_server").rglob("*.py"):
        read |= set(
            re.findall(
                r'(?:env\.get\(|_int\(env, |_port\(env, |env\[)"([A-Z][A-Z0-9_]+)"',
                source.read_text(),
            )
        )
    read -= {"PGPASSWORD"}  # set by the backup code for pg_dump, not a setting
    example = (DEPLOY / "pooldesk.env.example").read_text()
    missing = sorted(name for name in read if name not in example)
    assert not missing, f"not explained in deploy/pooldesk.env.example: {missing}"
    assert "POOLDESK_ENV_FILE" in (DEPLOY / "pooldesk@.service").read_text()


def test_the_unit_verifies_with_systemd():
    """`systemd-analyze verify` accepts the unit (ExecStart pointed at this checkout)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze is not installed (package systemd)", pytrace=False)
    unit = (
        (DEPLOY / "pooldesk@.service")
        .read_text()
        .replace(
            "/opt/pooldesk/current/bin/pooldesk-backend", str(VENV / "bin" / "pooldesk-backend")
        )
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pooldesk@.service"
        path.write_text(unit)
        done = subprocess.run(
            [analyze, "verify", str(path)], capture_output=True, text=True, timeout=60, cwd=folder
        )
    assert done.returncode == 0, done.stderr
    assert not done.stderr.strip(), done.stderr
