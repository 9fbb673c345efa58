"""The login plugin compacts its journal in a forked process, off the broker's thread: clients are
not stalled meanwhile, no login is lost or resurrected whatever dies when, and a failed compaction
leaves the journal as it was and is retried.

Compactions are forced by the plugin's test settings (environment, read by the broker at start;
see the compaction comment in `pooldesk_server/broker/plugin/pooldesk_logins.c`)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import statistics
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from pooldesk_server.broker.base import BrokerLogin, BrokerRejected
from pooldesk_server.broker.logins import dashboard_login, device_login
from pooldesk_server.broker.managed import JOURNAL_NAME, ManagedMosquitto, find_mosquitto
from tests.broker.probe import Probe
from tests.support.processes import children_of
from tests.support.waiting import wait_until

DEADLINE_S = 20.0


async def _wait(check: Callable[[], object], what: str) -> None:
    await wait_until(check, DEADLINE_S, what)


def _gone(pid: int) -> bool:
    """Ended (a zombie waiting to be reaped counts: it holds nothing any more)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except OSError:
        return True


def _journal(broker: ManagedMosquitto) -> Path:
    return broker.data_dir / "store" / JOURNAL_NAME


def _snapshot_left(broker: ManagedMosquitto) -> bool:
    return Path(f"{_journal(broker)}.new").exists()


def _log(broker: ManagedMosquitto) -> str:
    return (broker.data_dir / "mosquitto.log").read_text(errors="replace")


@contextlib.asynccontextmanager
async def _broker(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, **env: str
) -> AsyncIterator[ManagedMosquitto]:
    for key, value in env.items():
        monkeypatch.setenv(f"POOLDESK_LOGINS_{key}", value)
    broker = ManagedMosquitto(data_dir)
    await broker.start()
    try:
        assert broker.plugin_path is not None, "the login plugin was not built (see the log)"
        yield broker
    finally:
        await broker.stop()


@contextlib.asynccontextmanager
async def _thirty_logins(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, gate: Path, **env: str
) -> AsyncIterator[tuple[ManagedMosquitto, list[BrokerLogin]]]:
    """A broker with 30 logins that compacts after 20 more lines; its compacting child waits,
    snapshot written, while `gate` exists."""
    settings = {"COMPACT_FACTOR": "1", "COMPACT_SLACK": "20", "TEST_CHILD_GATE": str(gate)}
    async with _broker(data_dir, monkeypatch, **settings, **env) as broker:
        logins = [device_login(f"u{i}", f"ESP-{i:06X}") for i in range(30)]
        await broker.put_logins(logins)
        yield broker, logins


async def _churn_until(
    broker: ManagedMosquitto, done: Callable[[], object], gone: list[BrokerLogin]
) -> int:
    """Create and delete logins until `done()`: how many (each one two journal lines)."""
    i = 0
    while not done():
        churn = dashboard_login("carol", f"c{i:04x}")
        await broker.put_login(churn)
        await broker.delete_login(churn.username)
        gone.append(churn)
        i += 1
        assert i < 100, "no compaction attempted"
    return i


async def _can_log_in(broker: ManagedMosquitto, login: BrokerLogin) -> bool:
    probe = Probe.of(broker.port, login)
    try:
        return await probe.connect() == 0
    finally:
        probe.close()


async def _expect_logins(
    broker: ManagedMosquitto, live: dict[str, BrokerLogin], gone: list
) -> None:
    """The broker knows exactly `live`; a sample of them logs in, every gone login is refused."""
    assert await broker.list_logins() == set(live)
    for login in list(live.values())[:3] + list(live.values())[-3:]:
        assert await _can_log_in(broker, login), login.username
    for login in gone:
        assert not await _can_log_in(broker, login), f"{login.username} came back"


async def test_a_compaction_while_running_keeps_every_login_across_a_restart(data_dir, monkeypatch):
    live: dict[str, BrokerLogin] = {}
    gone: list[BrokerLogin] = []
    async with _broker(data_dir, monkeypatch, COMPACT_FACTOR="1", COMPACT_SLACK="40") as broker:
        logins = [device_login(f"u{i}", f"ESP-{i:06X}") for i in range(30)]
        await broker.put_logins(logins)
        live.update((login.username, login) for login in logins)
        inode = _journal(broker).stat().st_ino
        # 30 logins + 40 lines: a compaction starts at the 21st change; 30 changes in all.
        await _churn_until(broker, lambda: len(gone) == 30, gone)
        await _wait(lambda: _journal(broker).stat().st_ino != inode, "the journal compacted")
        assert "pooldesk_logins: compacted" in _log(broker)
        # Changes after the swap go to the new journal.
        dropped = logins[0]
        await broker.delete_login(dropped.username)
        del live[dropped.username]
        gone.append(dropped)
        added = device_login("dave", "ESP-D00001")
        await broker.put_login(added)
        live[added.username] = added
        lines = _journal(broker).read_text().splitlines()
        # 92 lines were written; the compacted journal holds a line per login, the lines
        # written while the snapshot was made and the two above.
        assert len(lines) < 60, len(lines)
        assert _journal(broker).stat().st_mode & 0o777 == 0o600  # password hashes
    async with _broker(data_dir, monkeypatch) as broker:
        await _expect_logins(broker, live, gone)


class _Echo:
    """A device echoing commands as state and a dashboard timing command -> state, back to back
    in a thread until stopped: (start, ms) of every round trip."""

    PREFIX = "users/echo/devices/esp-e00001"

    def __init__(self, port: int, dash: BrokerLogin, dev: BrokerLogin) -> None:
        self.times: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._echoed: dict[str, threading.Event] = {}
        self.device = self._client(port, dev, f"{self.PREFIX}/pump/set", self._on_command)
        self.dashboard = self._client(port, dash, f"{self.PREFIX}/pump/state", self._on_state)
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _client(port: int, login: BrokerLogin, topic: str, on_message) -> mqtt.Client:
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=login.client_id,
            protocol=mqtt.MQTTv5,
        )
        client.username_pw_set(login.username, login.password)
        client.on_socket_open = lambda _c, _u, sock: sock.setsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
        )
        subscribed = threading.Event()
        client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        client.on_subscribe = lambda *_: subscribed.set()
        client.on_message = on_message
        client.connect("127.0.0.1", port)
        client.loop_start()
        assert subscribed.wait(5), f"{login.username} could not subscribe to {topic}"
        return client

    def _on_command(self, client: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        client.publish(f"{self.PREFIX}/pump/state", msg.payload, qos=1)

    def _on_state(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        event = self._echoed.get(json.loads(msg.payload)["cmd_id"])
        if event is not None:
            event.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            cmd_id = uuid.uuid4().hex
            self._echoed[cmd_id] = done = threading.Event()
            start = time.monotonic()
            payload = json.dumps({"cmd_id": cmd_id, "on": True})
            self.dashboard.publish(f"{self.PREFIX}/pump/set", payload, qos=1)
            if not done.wait(10):
                raise AssertionError("a command was not echoed within 10 s")
            self.times.append((start, (time.monotonic() - start) * 1000))
            del self._echoed[cmd_id]

    def __enter__(self) -> _Echo:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(15)
        for client in (self.device, self.dashboard):
            client.disconnect()
            client.loop_stop()

    def worst_in(self, start: float, end: float) -> float:
        """The longest round trip in flight at any time between `start` and `end`."""
        return max((ms for t, ms in self.times if t <= end and t + ms / 1000 >= start), default=0)


# Twice issue 12's 11,000 logins: rewriting 11,000 in the broker's thread took 167 ms (fsync
# 38 ms) on the development machine and 40-150 ms on the shared test machine; 22,000 take about
# twice that (POOLDESK_LOGINS_COMPACT_INLINE=1, the old in-thread path, fails this test: 131-683
# ms, and 87-134 ms, median 91, in a run where the control below was 5.7 ms).
# Forked, the broker's thread only forks (page tables, ~1 ms) and, at the swap, copies the lines
# written since the fork (a few KB) and renames. The echo is watched where the broker's thread
# does that work: during the change that started the compaction and just before the swap. The
# median of five compactions keeps an unrelated hiccup of the shared 2-core machine from
# deciding. The bound follows the machine's own noise in the same run: windows as long as each
# compaction's, away from any compaction (between a swap and the next fork, the churn going
# on), give the usual longest echo (the control: 5-7 ms here, forked compactions 2-3 times
# that, the child competing for the cores). A compaction may cost 4 times the control, at least
# 50 ms (well above the echo's usual p99 on a quiet machine, 6-10 ms) and at most 80 ms (under
# every in-thread stall measured, so a busy machine does not excuse it).
STALL_FLOOR_MS = 50.0
STALL_CAP_MS = 80.0
NOISE_FACTOR = 4.0
COMPACTIONS = 5
QUIET_MARGIN_S = 0.2  # kept between a control window and a fork or a swap


def _control_windows(gap: tuple[float, float], length: float) -> list[tuple[float, float]]:
    """Back-to-back windows of `length` seconds inside `gap`, `QUIET_MARGIN_S` from its ends."""
    start, end = gap[0] + QUIET_MARGIN_S, gap[1] - QUIET_MARGIN_S
    count = int((end - start) // length) if length > 0 else 0
    return [(start + n * length, start + (n + 1) * length) for n in range(max(count, 0))]


@pytest.mark.slow  # 22,000 logins imported, five compactions: 25-50 s
async def test_clients_are_not_stalled_while_twenty_thousand_logins_are_compacted(
    data_dir, monkeypatch
):
    async with _broker(data_dir, monkeypatch, COMPACT_FACTOR="1", COMPACT_SLACK="800") as broker:
        present = [device_login(f"u{i // 2}", f"ESP-{i:06X}") for i in range(20_000)]
        present += [dashboard_login(f"u{i}", f"{i:08x}") for i in range(2_000)]
        await broker.import_logins(present)
        dash, dev = dashboard_login("echo", "e0e0"), device_login("echo", "ESP-E00001")
        await broker.put_logins([dash, dev])
        pid = broker.pid
        assert pid is not None
        churn = [dashboard_login("carol", f"c{i:04x}") for i in range(50)]  # hashed up front
        windows: list[list[tuple[float, float]]] = []
        quiet: list[tuple[float, float]] = []  # from a swap (or the start) to the next fork
        with _Echo(broker.port, dash, dev) as echo:
            i = 0
            began = time.monotonic()
            while len(windows) < COMPACTIONS:
                calm_since = windows[-1][-1][1] if windows else began
                inode = _journal(broker).stat().st_ino
                watch: list[tuple[float, float]] = []
                checked = time.monotonic()
                while _journal(broker).stat().st_ino == inode:
                    login = churn[i // 2 % len(churn)]
                    start = time.monotonic()
                    if i % 2 == 0:
                        await broker.put_login(login)
                    else:
                        await broker.delete_login(login.username)
                    i += 1
                    if not watch and children_of(pid):  # this change forked the compaction
                        watch.append((start, time.monotonic()))
                    assert time.monotonic() - began < 120, "no compaction within 120 s"
                    checked = time.monotonic()
                # Swapped since `checked` (in the broker's thread: rewritten, then swapped).
                watch.append((checked - 0.05, time.monotonic()))
                quiet.append((calm_since, watch[0][0]))
                windows.append(watch)
            await _wait(lambda: echo.times[-1][0] > windows[-1][-1][1], "echoes after the last")
        worst = [max(echo.worst_in(*w) for w in watch) for watch in windows]
        # The same measure over windows as long as each compaction's, in the quiet before it.
        control = [
            echo.worst_in(*w)
            for gap, watch in zip(quiet, windows, strict=True)
            for w in _control_windows(gap, sum(end - start for start, end in watch))
        ]
        noise = statistics.median(control) if control else 0.0
        bound = min(STALL_CAP_MS, max(STALL_FLOOR_MS, NOISE_FACTOR * noise))
        assert _log(broker).count("pooldesk_logins: compacted") >= COMPACTIONS
        assert statistics.median(worst) < bound, (
            f"the longest echo around each compaction: {[round(ms) for ms in worst]} ms, bound "
            f"{bound:.0f} ms (the same windows away from compactions: p50 {noise:.1f} ms over "
            f"{len(control)}; echo p50 {statistics.median(ms for _, ms in echo.times):.2f} ms, "
            f"max {max(ms for _, ms in echo.times):.0f} ms over {len(echo.times)})"
        )


async def test_a_broker_killed_mid_compaction_restarts_with_every_login(data_dir, monkeypatch):
    gate = data_dir.parent / "compaction-gate"  # while it exists the child waits, half done
    gate.touch()
    async with _thirty_logins(data_dir, monkeypatch, gate) as (broker, logins):
        live = {login.username: login for login in logins}
        gone: list[BrokerLogin] = []
        pid = broker.pid
        assert pid is not None
        await _churn_until(broker, lambda: children_of(pid), gone)
        (child,) = children_of(pid)
        await _wait(lambda: Path(f"{_journal(broker)}.new").exists(), "the snapshot written")
        # Changes while the snapshot is out: only the old journal has them.
        for login in logins[:5]:
            await broker.delete_login(login.username)
            del live[login.username]
            gone.append(login)
        old_password = logins[5]
        renewed = device_login("u5", "ESP-000005")  # a new password for the same login
        await broker.put_login(renewed)
        live[renewed.username] = renewed
        gone.append(old_password)
        added = device_login("erin", "ESP-E00002")
        await broker.put_login(added)
        live[added.username] = added

        os.kill(pid, signal.SIGKILL)
        await _wait(lambda: _gone(child), "the child dies with the broker")
        await _wait(lambda: broker.restarts == 1 and broker.pid not in (None, pid), "restart")
        await _expect_logins(broker, live, gone)
        assert not _snapshot_left(broker)  # the stale snapshot replaced at the restart
    gate.unlink()


async def test_a_failed_compaction_leaves_the_journal_whole_and_is_retried(data_dir, monkeypatch):
    gate = data_dir.parent / "compaction-gate"
    gate.touch()
    async with _thirty_logins(data_dir, monkeypatch, gate, COMPACT_RETRY_S="1") as (
        broker,
        logins,
    ):
        journal = _journal(broker)
        new = Path(f"{journal}.new")
        live = {login.username: login for login in logins}
        gone: list[BrokerLogin] = []
        pid = broker.pid
        assert pid is not None

        # 1. The compacting process cannot write its file (as with a full or read-only disk).
        os.mkdir(new)  # in the way of the snapshot file
        i = await _churn_until(broker, lambda: "cannot create" in _log(broker), gone)
        inode, before = journal.stat().st_ino, journal.read_bytes()
        assert "the journal is unchanged" in _log(broker)
        assert len(before.splitlines()) == 30 + 2 * i  # every line kept
        added = device_login("erin", "ESP-E00002")
        await broker.put_login(added)  # changes go on meanwhile, into the old journal
        live[added.username] = added
        before = journal.read_bytes()

        # 2. It dies half-way (killed; a crash is the same).
        os.rmdir(new)
        await _wait(lambda: new.is_file() and bool(children_of(pid)), "a retry")
        for child in children_of(pid):
            os.kill(child, signal.SIGKILL)
        await _wait(lambda: "ended without a word" in _log(broker), "the failure logged")
        assert journal.stat().st_ino == inode
        assert journal.read_bytes() == before  # untouched
        await _wait(lambda: not new.exists(), "its half-written file removed")

        # 3. Nothing in the way any more: a later retry succeeds without anyone changing anything.
        gate.unlink()
        await _wait(lambda: journal.stat().st_ino != inode, "a later retry compacts")
        assert len(journal.read_text().splitlines()) == len(live)
        await _expect_logins(broker, live, gone)


async def test_a_stuck_compaction_is_given_up_and_retried(data_dir, monkeypatch):
    """A child that never reports (a disk that stopped answering) is killed after its deadline,
    said in the log, and compaction is tried again, instead of never again while the journal
    grows."""
    gate = data_dir.parent / "compaction-gate"
    gate.touch()  # the child waits here, as a stuck one would
    async with _thirty_logins(
        data_dir, monkeypatch, gate, COMPACT_CHILD_S="1", COMPACT_RETRY_S="1"
    ) as (broker, logins):
        journal = _journal(broker)
        inode = journal.stat().st_ino
        pid = broker.pid
        assert pid is not None
        gone: list[BrokerLogin] = []
        await _churn_until(broker, lambda: children_of(pid), gone)
        (stuck,) = children_of(pid)
        await _wait(lambda: "gave up on process" in _log(broker), "the stuck child given up")
        await _wait(lambda: _gone(stuck), "the stuck child killed")
        assert journal.stat().st_ino == inode  # the journal as it was
        gate.unlink()  # the disk answers again
        await _wait(lambda: journal.stat().st_ino != inode, "a retry compacts")
        await _expect_logins(broker, {login.username: login for login in logins}, gone)


async def test_an_unfinished_last_line_is_left_out_at_start(data_dir, monkeypatch):
    """A change whose journal line was cut short (the broker killed in the middle of writing a
    long one) must not replace the complete login it changed: cut inside its rules, it would
    leave the login without the rights it lost."""
    login = device_login("ann", "ESP-A00001")
    async with _broker(data_dir, monkeypatch) as broker:
        await broker.put_login(login)
        journal = _journal(broker)
    whole = journal.read_text()
    (line,) = [ln for ln in whole.splitlines() if ln.startswith(f"put\t{login.username}\t")]
    cut = line.rindex("\ts")  # its last subscribe right: the write cut short a few bytes in
    topic = line[cut + 2 :].split("\t", 1)[0]
    journal.write_text(whole + line[: cut + 5])  # a rewrite of the same login, cut short
    async with _broker(data_dir, monkeypatch) as broker:
        probe = Probe.of(broker.port, login)
        try:
            assert await probe.connect() == 0
            assert (await probe.subscribe(topic))[0] < 0x80, f"subscribe to {topic} refused"
        finally:
            probe.close()
        assert "ignoring an unfinished last line" in _log(broker)
        assert journal.read_text().endswith("\n")  # the start-up compaction left it out


def _mosquitto_with_file_size_limit(folder: Path, blocks: int) -> Path:
    """A `mosquitto` that can write no file past `blocks` × 512 bytes: what a full disk looks
    like to the broker (writes fail; SIGXFSZ is ignored, so the broker lives on, as with
    ENOSPC). A POSIX shell script: the broker runs as the `mosquitto` user, who cannot reach
    this interpreter."""
    wrapper = folder / "mosquitto-limited"
    wrapper.write_text(
        f"#!/bin/sh\ntrap '' XFSZ\nulimit -f {blocks}\nexec {find_mosquitto()} \"$@\"\n"
    )
    wrapper.chmod(0o755)
    return wrapper


async def test_a_change_that_cannot_be_written_down_is_refused_and_loses_nothing(
    data_dir, monkeypatch
):
    """Disk full: the change is answered with an error (so the backend keeps it owed and sends
    it again), the journal keeps no half line, every login written before survives a restart,
    and the change goes through once there is room."""
    earlier = [device_login(f"u{i}", f"ESP-{i:06X}") for i in range(30)]
    async with _broker(data_dir, monkeypatch) as broker:
        await broker.put_logins(earlier)
        journal = _journal(broker)
    blocks = (journal.stat().st_size + 1500) // 512 + 1  # a few more lines fit
    room = blocks * 512
    limited = _mosquitto_with_file_size_limit(data_dir.parent, blocks)
    written: list[BrokerLogin] = []
    refused: BrokerLogin | None = None
    broker = ManagedMosquitto(data_dir, mosquitto_path=str(limited))
    await broker.start()
    try:
        for i in range(40):
            login = dashboard_login("carol", f"c{i:04x}")
            try:
                await broker.put_login(login)
            except BrokerRejected as error:
                assert "cannot write the journal" in str(error)
                refused = login
                break
            written.append(login)
        assert refused is not None, "the journal never filled up"
        assert written, "not even one change fitted"
        text = journal.read_bytes()
        assert len(text) <= room
        assert text.endswith(b"\n")  # the partly written line was cut off
    finally:
        await broker.stop()
    live = {login.username: login for login in [*earlier, *written]}
    async with _broker(data_dir, monkeypatch) as broker:
        await _expect_logins(broker, live, [refused])
        await broker.put_login(refused)  # sent again, with room on the disk: it goes through
        assert refused.username in await broker.list_logins()
