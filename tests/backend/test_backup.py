"""`pooldesk-backend backup` of a running service and `restore` into a fresh folder, on SQLite
and PostgreSQL: after the round trip users sign in, the device's broker login works and the
history is there. Real `serve` processes with their managed Mosquitto, real pg_dump/pg_restore."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.backend.postgres import Cluster, PostgresUnavailable
from tests.support.backend import BackendProcess

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret-" + "x" * 40
PASSWORD = "Blue-Lagoon-2026!"
DEVICE = "ESP-B4C4B1"


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pooldesk_server.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env={**os.environ, "JWT_SECRET": SECRET, "POOLDESK_ENV_FILE": "/nonexistent", **env},
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(
    request: pytest.FixtureRequest, pg_cluster: Cluster | PostgresUnavailable
) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """The environment of the original service and of the restored one."""
    if request.param == "sqlite":
        yield {}, {}
        return
    if isinstance(pg_cluster, PostgresUnavailable):
        pytest.fail(f"PostgreSQL test cluster unavailable: {pg_cluster}", pytrace=False)
    for name in ("backup_source", "backup_target"):
        pg_cluster.psql("postgres", f"DROP DATABASE IF EXISTS {name}")
        pg_cluster.psql("postgres", f"CREATE DATABASE {name}")
    yield (
        {"DATABASE_URL": pg_cluster.url("backup_source")},
        {"DATABASE_URL": pg_cluster.url("backup_target")},
    )


def mqtt_connects(broker_url: str, creds: dict) -> int:
    """Connect with a device login; the CONNACK reason code (0 = accepted)."""
    host, port = broker_url.removeprefix("mqtt://").rsplit(":", 1)
    client = paho.Client(
        CallbackAPIVersion.VERSION2, client_id=creds["clientId"], protocol=paho.MQTTv311
    )
    client.username_pw_set(creds["mqttUser"], creds["mqttPassword"])
    codes: list[int] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: codes.append(reason.value)
    client.connect(host, int(port), keepalive=30)
    client.loop_start()
    try:
        deadline = time.monotonic() + 10
        while not codes and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        client.loop_stop()
        client.disconnect()
    assert codes, "the broker did not answer the CONNECT"
    return codes[0]


def test_backup_of_a_running_service_restores_into_a_working_one(
    tmp_path: Path, databases: tuple[dict[str, str], dict[str, str]]
) -> None:
    source_env, target_env = databases
    original = BackendProcess(tmp_path / "original", env=source_env)
    original.data_dir.mkdir()
    original.start()
    try:
        with httpx.Client(base_url=original.url, timeout=30) as http:
            assert (
                http.post(
                    "/api/auth/register",
                    json={
                        "username": "carol",
                        "email": "carol@example.com",
                        "password": PASSWORD,
                        "deviceId": DEVICE,
                    },
                ).status_code
                == 201
            )
            token = http.post(
                "/api/auth/login", json={"username": "carol", "password": PASSWORD}
            ).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}
            creds = http.post(f"/api/devices/{DEVICE}/credentials", headers=auth).json()
            assert mqtt_connects(creds["brokerUrl"], creds) == 0
            posted = http.post(
                "/api/event",
                json={"deviceId": DEVICE, "type": "temperature", "data": {"water": 26.5}},
                headers=auth,
            )
            assert posted.status_code == 201, posted.text
            # The service keeps serving while the backup is taken.
            done = cli(
                "backup",
                "--data-dir",
                str(original.data_dir),
                "--out",
                str(tmp_path / "pool.tar.gz"),
                env=source_env,
            )
            assert done.returncode == 0, done.stderr
            assert "holds secrets" in done.stdout
            assert http.get("/api/auth/verify", headers=auth).status_code == 200
    finally:
        original.stop()

    archive = tmp_path / "pool.tar.gz"
    assert archive.stat().st_mode & 0o077 == 0, "the archive holds secrets: owner-only"

    restored_dir = tmp_path / "restored"
    done = cli("restore", "--data-dir", str(restored_dir), str(archive), env=target_env)
    assert done.returncode == 0, done.stderr
    assert f"serve --data-dir {restored_dir}" in done.stdout

    restored = BackendProcess(restored_dir, env=target_env)
    restored.start()
    try:
        with httpx.Client(base_url=restored.url, timeout=30) as http:
            login = http.post("/api/auth/login", json={"username": "carol", "password": PASSWORD})
            assert login.status_code == 200, login.text
            auth = {"Authorization": f"Bearer {login.json()['token']}"}
            events = http.get(
                "/api/history", params={"deviceId": DEVICE, "type": "temperature"}, headers=auth
            ).json()["events"]
            assert [e["data"] for e in events] == [{"water": 26.5}]
            devices = http.get("/api/devices", headers=auth).json()["devices"]
            assert [d["deviceId"] for d in devices] == [DEVICE]
            broker_url = http.get("/api/auth/mqtt-credentials", headers=auth).json()["brokerUrl"]
            # The device's login, issued before the backup, still opens the restored broker;
            # a wrong password still does not.
            assert mqtt_connects(broker_url, creds) == 0
            assert mqtt_connects(broker_url, {**creds, "mqttPassword": "wrong"}) != 0
    finally:
        restored.stop()


def test_restore_refuses_a_folder_that_is_not_empty_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "pooldesk.db").write_bytes(b"precious")
    archive = _small_backup(tmp_path)
    done = cli("restore", "--data-dir", str(data), str(archive), env={})
    assert done.returncode == 1
    assert "is not empty" in done.stderr
    assert (data / "pooldesk.db").read_bytes() == b"precious"
    assert sorted(p.name for p in data.iterdir()) == ["pooldesk.db"]


def test_a_damaged_backup_is_refused_and_leaves_nothing_behind(tmp_path: Path) -> None:
    archive = _small_backup(tmp_path)
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "database/pooldesk.db":
                data = data[:-1] + bytes([data[-1] ^ 1])
            dst.addfile(member, io.BytesIO(data))
    target = tmp_path / "restored"
    done = cli("restore", "--data-dir", str(target), str(damaged), env={})
    assert done.returncode == 1
    assert "does not match its checksum" in done.stderr
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir() if "restoring" in p.name] == []


def test_a_file_that_is_not_a_backup_gets_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello")
    done = cli("restore", "--data-dir", str(tmp_path / "new"), str(bogus), env={})
    assert done.returncode == 1
    assert "is not a PoolDesk backup" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_postgresql_target_that_is_not_empty_is_refused(
    tmp_path: Path, pg_cluster: Cluster | PostgresUnavailable
) -> None:
    if isinstance(pg_cluster, PostgresUnavailable):
        pytest.fail(f"PostgreSQL test cluster unavailable: {pg_cluster}", pytrace=False)
    pg_cluster.psql("postgres", "DROP DATABASE IF EXISTS backup_busy")
    pg_cluster.psql("postgres", "CREATE DATABASE backup_busy")
    source = {"DATABASE_URL": pg_cluster.url("backup_busy")}
    assert cli("migrate", "--data-dir", str(tmp_path / "a"), env=source).returncode == 0
    archive = tmp_path / "pg.tar.gz"
    done = cli("backup", "--data-dir", str(tmp_path / "a"), "--out", str(archive), env=source)
    assert done.returncode == 0, done.stderr
    # Restoring onto the same, populated database is refused.
    done = cli("restore", "--data-dir", str(tmp_path / "b"), str(archive), env=source)
    assert done.returncode == 1
    assert "is not empty" in done.stderr
    assert not (tmp_path / "b").exists()


def _small_backup(tmp_path: Path) -> Path:
    """A backup of a freshly migrated SQLite service (no server needed)."""
    source = tmp_path / "source"
    assert cli("migrate", "--data-dir", str(source), env={}).returncode == 0
    archive = tmp_path / "small.tar.gz"
    done = cli("backup", "--data-dir", str(source), "--out", str(archive), env={})
    assert done.returncode == 0, done.stderr
    return archive


def test_restore_refuses_a_folder_a_server_holds(tmp_path: Path) -> None:
    from pooldesk_server.datalock import lock_data_folder

    archive = _small_backup(tmp_path)
    held = lock_data_folder(tmp_path / "live")
    try:
        done = cli("restore", "--data-dir", str(tmp_path / "live"), str(archive), env={})
    finally:
        held.release()
    assert done.returncode == 1
    assert f"in use by pid {os.getpid()}" in done.stderr
