"""The managed Mosquitto's life: files, restarts, stop, missing binary, idempotent login changes."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import pytest

from pooldesk_server.broker.base import (
    BrokerBackend,
    BrokerNotInstalled,
    BrokerRejected,
    BrokerUnavailable,
)
from pooldesk_server.broker.logins import dashboard_login, device_login
from pooldesk_server.broker.managed import ADMIN_USERNAME, ManagedMosquitto
from pooldesk_server.broker.ramstore import ram_path
from pooldesk_server.broker.rights import AclRule
from pooldesk_server.broker.store import HashedLogin, dynsec_password_hash
from tests.broker.probe import NOT_AUTHORIZED, REFUSED_SUBSCRIBE, Probe


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text()[:60]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


async def test_is_a_broker_backend_and_keeps_secrets_private(broker, data_dir):
    assert isinstance(broker, BrokerBackend)
    assert broker.broker_url == f"mqtt://127.0.0.1:{broker.port}"
    assert stat.S_IMODE((data_dir / "admin-password").stat().st_mode) == 0o600
    conf = (data_dir / "mosquitto.conf").read_text()
    assert "allow_anonymous false" in conf
    assert "set_tcp_nodelay true" in conf
    assert f"listener {broker.port} 127.0.0.1" in conf
    uid = os.stat(f"/proc/{broker.pid}").st_uid  # the process's effective user
    assert uid == pwd.getpwnam("mosquitto").pw_uid  # not root, when the store is reachable
    store = json.loads((data_dir / "store" / "dynamic-security.json").read_text())
    assert store["defaultACLAccess"]["publishClientReceive"] is False
    admin_password = (data_dir / "admin-password").read_text().strip()
    assert admin_password not in json.dumps(store)  # only a PBKDF2 hash is stored
    assert await broker.list_logins() == set()  # the admin is not one of "our" logins
    assert (await broker.health()).ok
    journal = data_dir / "store" / "pooldesk-logins.journal"  # the logins' password hashes
    assert stat.S_IMODE(journal.stat().st_mode) == 0o600


async def test_another_process_attaching_while_the_files_are_unreadable_is_told_to_retry(
    broker, data_dir
):
    """`serve --workers N`: the other workers attach to the primary's broker through its files.
    A file caught while the broker (re)starts, or damaged, is "not reached yet" (retried by the
    worker's health loop), never an exception that ends the worker."""
    other = ManagedMosquitto(data_dir)
    await other.attach()  # the legitimate twin: it reaches the running broker
    try:
        assert await other.list_logins() == set()
    finally:
        await other.detach()
    ports = data_dir / "ports.json"
    saved = ports.read_text()
    ports.write_text("")  # what a reader saw of a file rewritten in place
    late = ManagedMosquitto(data_dir)
    with pytest.raises(BrokerUnavailable, match=r"files are unreadable .*if this lasts, restart"):
        await late.attach()
    ports.write_text(saved)
    await late.attach()  # once readable, the same object attaches
    try:
        assert await late.list_logins() == set()
    finally:
        await late.detach()


async def test_anonymous_and_unknown_logins_are_refused(broker):
    anonymous = Probe(broker.port, "", "", "anon")
    anonymous.client.username_pw_set(None, None)
    try:
        assert await anonymous.connect() != 0
    finally:
        anonymous.close()
    stranger = Probe(broker.port, "nobody", "guess", "nobody")
    try:
        assert await stranger.connect() == NOT_AUTHORIZED
    finally:
        stranger.close()


async def test_admin_login_cannot_read_tenant_topics(broker, data_dir):
    await broker.put_login(device_login("alice", "ESP-A00001"))
    admin = Probe(
        broker.port, ADMIN_USERNAME, (data_dir / "admin-password").read_text().strip(), "x"
    )
    try:
        assert await admin.connect() == 0
        assert (await admin.subscribe("users/#"))[0] in REFUSED_SUBSCRIBE
        assert (await admin.subscribe("$SYS/#"))[0] in REFUSED_SUBSCRIBE
    finally:
        admin.close()


async def test_put_login_is_idempotent_and_replaces_stale_rights(broker):
    login = device_login("alice", "ESP-A00001")
    await broker.put_login(login)
    await broker.put_login(login)
    # The same login name with other rights (e.g. the device moved to another owner).
    moved = replace(device_login("carol", "ESP-A00001"), password=login.password)
    await broker.put_login(moved)
    assert await broker.list_logins() == {login.username}
    probe = Probe.of(broker.port, moved)
    try:
        assert await probe.connect() == 0
        assert await probe.publish("users/carol/devices/esp-a00001/status", "online") == 0
        assert await probe.publish("users/alice/devices/esp-a00001/status", "online") == (
            NOT_AUTHORIZED
        )
    finally:
        probe.close()


async def test_bad_rights_are_refused_with_a_clear_error(broker):
    bad = replace(
        dashboard_login("alice", "abc"), rights=(AclRule("publishClientSend", "users/#/x"),)
    )
    with pytest.raises(BrokerRejected, match="not a valid MQTT topic filter"):
        await broker.put_logins([device_login("alice", "ESP-A00001"), bad])
    assert await broker.list_logins() == set()  # nothing of the batch was applied
    with pytest.raises(BrokerRejected, match="admin"):
        await broker.delete_login(ADMIN_USERNAME)


async def test_killed_broker_is_restarted_and_logins_survive(broker):
    login = device_login("alice", "ESP-A00001")
    await broker.put_login(login)
    old_pid = broker.pid
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    for _ in range(200):
        if broker.restarts == 1 and broker.pid and broker.pid != old_pid:
            break
        await asyncio.sleep(0.05)
    assert broker.restarts == 1
    assert broker.pid != old_pid
    probe = Probe.of(broker.port, login)
    try:
        assert await probe.connect() == 0  # same port, same login
    finally:
        probe.close()
    second = device_login("alice", "ESP-A00002")
    await broker.put_login(second)  # the admin connection came back by itself
    assert await broker.list_logins() == {login.username, second.username}
    assert (await broker.health()).ok


async def test_stop_leaves_no_process_and_a_restart_keeps_logins(data_dir):
    first = ManagedMosquitto(data_dir)
    await first.start()
    login = device_login("alice", "ESP-A00001")
    await first.put_login(login)
    pid, port = first.pid, first.port
    await first.stop()
    assert pid is not None
    assert not _alive(pid)
    assert not _port_open(port)
    assert first.disk_state.exists()  # saved to disk
    assert not ram_path(data_dir).exists()  # and the RAM freed

    second = ManagedMosquitto(data_dir)  # a backend restart on the same folder
    await second.start()
    try:
        assert second.port == port
        assert await second.list_logins() == {login.username}
    finally:
        await second.stop()


async def test_a_broker_left_over_by_a_crashed_backend_is_replaced(data_dir):
    crashed = ManagedMosquitto(data_dir)
    await crashed.start()
    leftover = crashed.pid
    assert leftover is not None
    # The backend dies without stop(): its supervisor and admin connection vanish with it.
    crashed._supervisor.cancel()
    await crashed._client.close()
    crashed._proc = None
    fresh = ManagedMosquitto(data_dir)
    await fresh.start()
    try:
        assert fresh.pid != leftover
        assert not _alive(leftover)
        assert (await fresh.health()).ok
    finally:
        await fresh.stop()


async def test_missing_mosquitto_says_how_to_install_it(data_dir):
    broker = ManagedMosquitto(data_dir, mosquitto_path="/nonexistent/mosquitto")
    with pytest.raises(BrokerNotInstalled) as error:
        await broker.start()
    assert "Mosquitto is not installed" in str(error.value)
    assert "sudo apt-get install mosquitto" in str(error.value)
    assert not data_dir.exists()  # nothing half-done


async def test_port_in_use_is_reported_with_the_broker_output(data_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        broker = ManagedMosquitto(data_dir, port=taken.getsockname()[1], start_timeout=5)
        with pytest.raises(Exception, match=r"(?i)address already in use"):
            await broker.start()
        assert broker.pid is None


async def test_a_closed_data_folder_of_ours_is_opened_for_traversal_not_run_as_root(data_dir):
    if os.geteuid() != 0:
        pytest.skip("only meaningful when the backend runs as root")
    data_dir.mkdir(mode=0o700)  # what `pooldesk-backend serve` makes
    broker = ManagedMosquitto(data_dir / "broker")
    await broker.start()
    try:
        assert os.stat(f"/proc/{broker.pid}").st_uid == pwd.getpwnam("mosquitto").pw_uid
        mode = stat.S_IMODE(data_dir.stat().st_mode)
        assert mode & 0o001
        assert not mode & 0o004
        await broker.put_login(device_login("alice", "ESP-A00001"))
        assert await broker.list_logins() == {"dev-esp-a00001"}
    finally:
        await broker.stop()


async def test_runs_as_root_only_when_a_folder_above_the_data_folder_is_closed(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only meaningful when the backend runs as root")
    hidden = tmp_path / "private"  # pytest's tmp folders are 0700, and not the backend's to open
    broker = ManagedMosquitto(hidden / "data")
    await broker.start()
    try:
        assert "user root" in (hidden / "data" / "mosquitto.conf").read_text()
        await broker.put_login(device_login("alice", "ESP-A00001"))  # the store is writable
        assert await broker.list_logins() == {"dev-esp-a00001"}
    finally:
        await broker.stop()


async def test_import_rebuilds_logins_from_stored_hashes_without_the_passwords(broker):
    kept = device_login("alice", "ESP-A00001")
    stale = device_login("mallory", "ESP-0BAD00")
    await broker.put_logins([kept, stale])
    # What a database holds: name, client id, rights and a hash; never the password.
    restored = HashedLogin(
        kept.username, kept.client_id, kept.rights, dynsec_password_hash(kept.password)
    )
    many = [device_login("bob", f"ESP-{i:06X}") for i in range(300)]
    await broker.import_logins([restored, *many], replace_all=True)

    assert await broker.list_logins() == {kept.username, *(m.username for m in many)}
    for login in (kept, many[0], many[-1]):
        probe = Probe.of(broker.port, login)
        try:
            assert await probe.connect() == 0
        finally:
            probe.close()
    gone = Probe.of(broker.port, stale)
    try:
        assert await gone.connect() == NOT_AUTHORIZED
    finally:
        gone.close()
    # The rights came back too, and the broker still takes online changes.
    probe = Probe.of(broker.port, kept)
    try:
        assert await probe.connect() == 0
        assert await probe.publish("users/alice/devices/esp-a00001/status", "online") == 0
        assert await probe.publish("users/bob/devices/esp-000000/status", "x") == NOT_AUTHORIZED
    finally:
        probe.close()
    await broker.delete_login(many[0].username)
    assert (await broker.health()).ok


async def test_import_with_a_bad_hash_changes_nothing(broker):
    kept = device_login("alice", "ESP-A00001")
    await broker.put_login(kept)
    pid = broker.pid
    bad = HashedLogin("dev-x", "x", kept.rights, "md5$1$abc$def")
    with pytest.raises(BrokerRejected, match="password hash"):
        await broker.import_logins([bad], replace_all=True)
    assert broker.pid == pid
    assert await broker.list_logins() == {kept.username}


async def test_the_broker_shares_our_scheduling_group_but_not_our_terminal_signals(broker):
    """Out of our process group, so a Ctrl-C in the terminal reaches the backend (which stops
    the broker cleanly), not the broker behind its back; in our session, so with the kernel's
    session autogroups it is scheduled with the backend instead of as a group of its own, which
    made it wait several times longer for a CPU on a busy machine (docs/mqtt.md)."""
    pid = broker.pid
    assert os.getpgid(pid) == pid != os.getpgrp()
    assert os.getsid(pid) == os.getsid(0)
    assert _autogroup(pid) == _autogroup(os.getpid())


def _autogroup(pid: int) -> str | None:
    """The session autogroup's name, or None where the kernel has none to show (built without
    CONFIG_SCHED_AUTOGROUP: no file; some sandboxed kernels: an empty one)."""
    try:
        fields = Path(f"/proc/{pid}/autogroup").read_text().split()
    except FileNotFoundError:
        return None
    return fields[0] if fields else None


def test_a_killed_backend_takes_its_broker_with_it(data_dir):
    """Even a SIGKILLed backend leaves no broker behind holding the ports."""
    script = (
        "import asyncio, sys\n"
        "from pooldesk_server.broker.managed import ManagedMosquitto\n"
        "async def main():\n"
        f"    m = ManagedMosquitto({str(data_dir)!r})\n"
        "    await m.start()\n"
        "    print(m.pid, m.port, flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    backend = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        pid, port = (int(x) for x in backend.stdout.readline().split())
        assert _alive(pid)
        assert _port_open(port)
    finally:
        backend.kill()
        backend.wait()
    # The broker gets SIGTERM when its parent dies and saves its state before it exits: on a
    # busy machine that may take seconds. An orphan broker never exits.
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    orphan = _alive(pid)
    if orphan:
        os.kill(pid, signal.SIGKILL)  # not left running after the test
    assert not orphan, "the broker outlived its killed backend"


async def test_retained_state_survives_a_power_cut_from_the_disk_copy(data_dir):
    """The broker saves into RAM (its fsync on disk stalled every client); within about two
    seconds the save is on disk too, and after a power cut (backend and broker killed, RAM
    emptied) the broker starts from that copy."""
    script = (
        "import asyncio\n"
        "from pooldesk_server.broker.logins import device_login\n"
        "from pooldesk_server.broker.managed import ManagedMosquitto\n"
        "async def main():\n"
        f"    m = ManagedMosquitto({str(data_dir)!r})\n"
        "    await m.start()\n"
        "    login = device_login('alice', 'ESP-A00001')\n"
        "    await m.put_login(login)\n"
        "    print(m.pid, m.port, m.saved_state, login.password, flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    backend = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, stdout=subprocess.PIPE
    )
    topic = "users/alice/devices/esp-a00001/alert/freeze"
    try:
        assert backend.stdout is not None
        pid, port, saved, password = (await backend.stdout.readline()).decode().split()
        assert Path(saved).parent == ram_path(data_dir)
        login = replace(device_login("alice", "ESP-A00001"), password=password)
        device = Probe.of(int(port), login)
        try:
            assert await device.connect() == 0
            assert await device.publish(topic, b"frost", retain=True) == 0
        finally:
            device.close()
        acknowledged = time.time()
        disk = data_dir / "store" / "mosquitto.db"

        def copied() -> bool:
            return disk.exists() and disk.stat().st_mtime > acknowledged

        for _ in range(100):
            if copied():
                break
            await asyncio.sleep(0.05)
        assert copied()
    finally:
        backend.kill()
        await backend.wait()
    for _ in range(100):
        if not _alive(int(pid)):
            break
        await asyncio.sleep(0.05)
    shutil.rmtree(ram_path(data_dir))  # the power cut empties RAM

    after = ManagedMosquitto(data_dir)
    await after.start()
    dashboard = dashboard_login("alice", "s1")
    await after.put_login(dashboard)
    watcher = Probe.of(after.port, dashboard)
    try:
        assert await watcher.connect() == 0
        assert await watcher.subscribe("users/alice/devices/esp-a00001/alert/+") == [1]
        (kept,) = await watcher.wait_for(topic)
        assert kept.retain
        assert kept.payload == b"frost"
    finally:
        watcher.close()
        await after.stop()


async def test_under_systemd_the_state_is_kept_in_the_runtime_directory(data_dir, monkeypatch):
    """The service unit's `PrivateDevices=` gives it a /dev/shm that dies with the service;
    `RuntimeDirectory=` (kept across restarts) is used instead when systemd names it."""
    runtime = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="pooldesk-test-runtime-"))
    os.chmod(runtime, 0o711)  # noqa: S103 - what systemd makes for the service's user
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(runtime))
    broker = ManagedMosquitto(data_dir)
    await broker.start()
    try:
        assert broker.saved_state.parent.parent == runtime
        for _ in range(100):  # the broker saves within a second or two
            if broker.saved_state.exists():
                break
            await asyncio.sleep(0.05)
        assert broker.saved_state.exists()
    finally:
        await broker.stop()
        shutil.rmtree(runtime)
    assert broker.disk_state.exists()


def test_starts_under_uvloop_as_the_server_runs_it(data_dir):
    """`pooldesk-backend serve` runs on uvloop, whose subprocess support differs from asyncio's."""
    import uvloop

    async def run() -> int:
        broker = ManagedMosquitto(data_dir)
        await broker.start()
        try:
            await broker.put_login(device_login("alice", "ESP-A00001"))
            assert await broker.list_logins() == {"dev-esp-a00001"}
            return os.stat(f"/proc/{broker.pid}").st_uid
        finally:
            await broker.stop()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        uid = runner.run(run())
    assert uid == pwd.getpwnam("mosquitto").pw_uid
