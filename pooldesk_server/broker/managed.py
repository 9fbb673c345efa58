"""`ManagedMosquitto`: the default broker back end — a private Mosquitto the backend runs itself.

In its data folder it keeps:
    admin-password          the dynamic-security admin's random password (0600)
    ports.json              the ports chosen on first start, reused so URLs stay stable
    mosquitto.conf          regenerated on every start
    mosquitto.log           the broker's own log
    mosquitto.pid           to stop a broker a crashed backend left behind
    store/                  dynamic-security.json, pooldesk-logins.journal and mosquitto.db (owned
                            by the broker's user; mosquitto.db is the disk copy of the broker's
                            state, which it saves into /dev/shm/pooldesk-broker-<hash>/ when
                            that is a tmpfs: ramstore.py)
    plugin/                 PoolDesk's login plugin, compiled here from
    pooldesk_server/broker/plugin/
    tls/                    CA and server certificate, only with a LAN listener

Logins live in PoolDesk's own plugin (pooldesk_server/broker/authplugin.py), loaded in front of
dynamic
security, which keeps only the admin login: dynamic security rewrites its whole store on every
change, stalling every client for ~0.2 s at 10,000 logins. Without a compiler and Mosquitto's
headers the broker falls back to dynamic security alone (with a warning).

The broker listens on 127.0.0.1 (TCP) and optionally on a LAN address with TLS. A websockets
listener is opened only when asked for (`websocket_port`, POOLDESK_MQTT_WS_PORT): Mosquitto 2.0.11
binds a websockets listener to every network interface whatever address it is given (libwebsockets
ignores it), so it would otherwise put the broker on the network without anyone choosing that.
A supervisor task restarts it, with backoff, if it dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import json
import logging
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pooldesk_server.broker.authplugin import PluginClient, PluginLogins, build_plugin, put_line
from pooldesk_server.broker.base import (
    BrokerError,
    BrokerHealth,
    BrokerLogin,
    BrokerNotInstalled,
    BrokerRejected,
    BrokerUnavailable,
)
from pooldesk_server.broker.dynsec import DynsecClient, DynsecLogins
from pooldesk_server.broker.ramstore import (
    MIRROR_INTERVAL_S,
    MirrorKey,
    flush_to_disk,
    mirror,
    ram_dir_for,
    seed,
)
from pooldesk_server.broker.rights import Rights
from pooldesk_server.broker.store import (
    HashedLogin,
    merge_logins,
    write_initial_store,
    write_private,
    write_replacing,
)
from pooldesk_server.broker.tls import TlsFiles
from pooldesk_server.datalock import process_alive

log = logging.getLogger(__name__)

ADMIN_USERNAME = "pooldesk-admin"
JOURNAL_NAME = "pooldesk-logins.journal"
PLUGIN_PATHS = (
    "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
    "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
    "/usr/lib/arm-linux-gnueabihf/mosquitto_dynamic_security.so",
    "/usr/lib/mosquitto_dynamic_security.so",
    "/usr/local/lib/mosquitto_dynamic_security.so",
)
INSTALL_HINT = "install it with `sudo apt-get install mosquitto` (Debian/Ubuntu)"
MAX_BACKOFF_S = 30.0
# Save the store every second (measured, docs/backend.md: saving after every change made a
# command's round trip ~20x slower and the recorder's drain ~2.5x slower).
AUTOSAVE_ON_CHANGES = False
AUTOSAVE_INTERVAL = 1  # seconds (with AUTOSAVE_ON_CHANGES: changes)
MAX_PACKET_BYTES = 1024 * 1024
# Per session. The recorder's queue while it is away must hold a restart's worth of traffic;
# every other session (a device's commands, a dashboard's state) needs far less, but Mosquitto
# 2.0 has one limit for all.
MAX_QUEUED_MESSAGES = 100_000
MAX_QUEUED_BYTES = 8 * 1024 * 1024
STABLE_AFTER_S = 30.0


@dataclass(frozen=True)
class LanListener:
    """A TLS listener for controllers on the home network.

    `bind` is the address to listen on ("0.0.0.0" for all); `hostname` is the name or IP devices
    use, written into the server certificate and the broker URL handed to them.
    """

    hostname: str
    bind: str = "0.0.0.0"  # noqa: S104 - the LAN listener exists to be reached from the network
    port: int = 8883


def find_mosquitto(explicit: str | None = None) -> str:
    candidates = [explicit] if explicit else [shutil.which("mosquitto"), "/usr/sbin/mosquitto"]
    for path in candidates:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    where = f"at {explicit}" if explicit else "on this machine"
    raise BrokerNotInstalled(f"Mosquitto is not installed {where}: {INSTALL_HINT}")


def find_dynsec_plugin() -> str:
    for path in PLUGIN_PATHS:
        if os.path.isfile(path):
            return path
    raise BrokerNotInstalled(
        "Mosquitto's dynamic-security plugin (mosquitto_dynamic_security.so) was not found: "
        f"{INSTALL_HINT}; version 2.0 or later is needed"
    )


def _reachable_by(path: Path, uid: int, gid: int) -> bool:
    """Can a process running as uid/gid traverse every folder above `path`? (Folders that do
    not exist yet will be made traversable.)"""
    for folder in path.resolve().parents:
        try:
            st = folder.stat()
        except FileNotFoundError:
            continue
        if st.st_uid == uid:
            ok = st.st_mode & 0o100
        elif st.st_gid == gid:
            ok = st.st_mode & 0o010
        else:
            ok = st.st_mode & 0o001
        if not ok:
            return False
    return True


def _chown_tree(path: Path, uid: int, gid: int) -> None:
    os.chown(path, uid, gid)
    for child in path.rglob("*"):
        os.chown(child, uid, gid)


class ManagedMosquitto:
    """A Mosquitto child process with dynamic security, supervised; implements `BrokerBackend`."""

    name = "managed"

    def __init__(
        self,
        data_dir: Path | str,
        *,
        port: int | None = None,
        websocket_port: int | None = None,
        lan: LanListener | None = None,
        mosquitto_path: str | None = None,
        start_timeout: float = 15.0,
        command_timeout: float = 10.0,
        login_plugin: bool = True,
        websockets: bool = False,
    ) -> None:
        """`login_plugin=False` keeps logins in dynamic security (what older versions did; the
        benchmark's comparison). `websockets=True` (or a `websocket_port`) adds a websockets
        listener, which Mosquitto 2.0 opens on every interface (see the module's docstring)."""
        self.data_dir = Path(data_dir)
        self._want_plugin = login_plugin
        self._settled = False
        self._wanted_port, self._wanted_ws_port = port, websocket_port
        self._websockets = websockets or websocket_port is not None
        self.lan = lan
        self._mosquitto_path = mosquitto_path
        self.start_timeout = start_timeout
        self.command_timeout = command_timeout
        self.port = 0
        self.websocket_port = 0
        self.restarts = 0
        self._proc: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False
        self._client: DynsecClient | None = None
        self._logins: DynsecLogins | None = None
        self._plugin_client: PluginClient | None = None
        self._plugin: PluginLogins | None = None
        self.plugin_path: Path | None = None  # None: logins go to dynamic security
        self._legacy: set[str] = set()  # logins older versions left in dynamic security
        self._tls: TlsFiles | None = None
        self._lock = asyncio.Lock()  # one login change at a time; imports rewrite the store
        self._exe: str | None = None
        self._run_as: tuple[int, int] | None = None  # (uid, gid) to start mosquitto as
        # Called after the supervisor (or an import) started the broker again: every client was
        # cut, and Mosquitto sent none of their wills (the backend says `offline` for them).
        self.on_respawn: Callable[[], Awaitable[None]] | None = None
        self._respawn_task: asyncio.Task[None] | None = None
        # The broker saves into RAM and a task copies the save to disk (ramstore.py).
        self._ram_dir: Path | None = None
        self._mirror_task: asyncio.Task[None] | None = None
        self._mirrored: MirrorKey | None = None
        self._journal_synced: MirrorKey | None = None
        self._mirror_wake = asyncio.Event()  # set by stop()

    def _settle_home(self) -> None:
        """As root, the broker runs as user `mosquitto`, which must traverse the folders above
        its files. The data folder is made 0700 by the CLI; when it is ours and closed, it gets
        the traverse bit for others (o+x: no listing; every file in it is 0600 or holds no
        secret). A folder above it that is closed (/root) is left alone: the broker then runs as
        root, with a warning saying how to avoid it."""
        if self._settled:
            return
        self._settled = True
        if os.geteuid() != 0:
            return
        try:
            entry = pwd.getpwnam("mosquitto")
        except KeyError:
            return
        folder = self.data_dir.parent
        try:
            st = folder.stat()
        except OSError:
            return
        if (
            st.st_uid == os.geteuid()
            and not st.st_mode & 0o001
            and _reachable_by(folder, entry.pw_uid, entry.pw_gid)  # only it is closed
        ):
            os.chmod(folder, stat.S_IMODE(st.st_mode) | 0o001)
            log.info("data folder %s made traversable (o+x) for user 'mosquitto'", folder)

    @property
    def rights_change_in_place(self) -> bool:
        """Can a login's rights change without its password (the login plugin is loaded)?
        Then `put_login` takes a `HashedLogin` (the hash kept in `mqtt_logins`) and changes
        rights without a restart, cutting only the connections of logins that lost a right."""
        return self._plugin is not None

    # ---- URLs --------------------------------------------------------------------------------

    @property
    def broker_url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def websocket_url(self) -> str:
        return f"ws://127.0.0.1:{self.websocket_port}"

    @property
    def lan_url(self) -> str | None:
        return f"mqtts://{self.lan.hostname}:{self.lan.port}" if self.lan else None

    @property
    def ca_cert_pem(self) -> str | None:
        return self._tls.ca_pem if self._tls else None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc and self._proc.returncode is None else None

    # ---- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._supervisor is not None:
            return
        exe = self._exe = find_mosquitto(self._mosquitto_path)
        plugin = find_dynsec_plugin()
        self._settle_home()
        self._stopping = False
        self._stop_leftover()  # first: refuses, changing nothing, if a live server owns it
        password = self._prepare_files()
        self.plugin_path = (
            await asyncio.to_thread(self._login_plugin) if self._want_plugin else None
        )
        self._write_config(plugin)
        self._make_clients(password)
        try:
            await self._spawn(exe)
            await self._connect_plugin()
            assert self._logins is not None  # made by _make_clients
            await self._logins.set_default_acl_access()
        except BaseException:
            await self._shutdown()
            raise
        self._supervisor = asyncio.create_task(self._supervise(exe), name="mosquitto-supervisor")
        self._mirror_wake = asyncio.Event()  # in this event loop
        self._mirror_task = asyncio.create_task(self._mirror_loop(), name="mosquitto-mirror")

    async def stop(self) -> None:
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        if self._mirror_task is not None:  # not cancelled: a copy half-way must finish first
            self._mirror_wake.set()
            await self._mirror_task
            self._mirror_task = None
        await self._shutdown()
        with contextlib.suppress(OSError):
            await asyncio.to_thread(flush_to_disk, self.data_dir / "store" / JOURNAL_NAME, None)
        # The broker saved on its way out: copy that to disk, then free the RAM (only then).
        if self._ram_dir is not None and await self._mirror_once():
            await asyncio.to_thread(shutil.rmtree, self._ram_dir, True)

    @property
    def saved_state(self) -> Path:
        """The file the broker saves its state (retained messages, sessions) into: in RAM when
        a tmpfs is available, copied to `disk_state` within a second (ramstore.py)."""
        return (self._ram_dir or self.data_dir / "store") / "mosquitto.db"

    @property
    def disk_state(self) -> Path:
        """The copy of the broker's state on disk: what it starts from after a power cut."""
        return self.data_dir / "store" / "mosquitto.db"

    async def _mirror_loop(self) -> None:
        """Every second, off the broker's thread: the broker's latest save to disk, and the
        login plugin's journal onto the disk (the plugin writes it without waiting for it)."""
        journal = self.data_dir / "store" / JOURNAL_NAME
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._mirror_wake.wait(), MIRROR_INTERVAL_S)
            if self._stopping:
                return
            await self._mirror_once()
            try:
                self._journal_synced = await asyncio.to_thread(
                    flush_to_disk, journal, self._journal_synced
                )
            except OSError as error:
                log.warning("could not flush %s to disk: %s", journal, error)

    async def _mirror_once(self) -> bool:
        """Copy the broker's latest save to disk if it changed; False if that failed."""
        if self._ram_dir is None:
            return False
        try:
            self._mirrored = await asyncio.to_thread(
                mirror, self._ram_dir, self.disk_state, self._mirrored
            )
        except OSError as error:
            log.warning("could not copy the broker's state to %s: %s", self.disk_state, error)
            return False
        return True

    def _login_plugin(self) -> Path | None:
        try:
            return build_plugin(self.data_dir / "plugin")
        except BrokerNotInstalled as error:
            built = sorted(
                (self.data_dir / "plugin").glob("pooldesk_logins-*.so"),
                key=lambda p: p.stat().st_mtime,
            )
            if built:  # an earlier build still holds the journal's logins: keep using it
                log.warning("%s; using the earlier build %s", error, built[-1])
                return built[-1]
            log.warning(
                "%s; logins go to dynamic security, and every login change stalls the broker "
                "for a moment (about 0.2 s at 10,000 logins)",
                error,
            )
            return None

    def _make_clients(self, password: str) -> None:
        self._client = DynsecClient(
            "127.0.0.1", self.port, ADMIN_USERNAME, password, timeout=self.command_timeout
        )
        self._logins = DynsecLogins(self._client, ADMIN_USERNAME)
        if self.plugin_path is not None:
            self._plugin_client = PluginClient(
                "127.0.0.1", self.port, ADMIN_USERNAME, password, timeout=self.command_timeout
            )
            self._plugin = PluginLogins(self._plugin_client, ADMIN_USERNAME)

    async def _connect_plugin(self) -> None:
        if self._plugin_client is not None:
            await self._plugin_client.connect(self.start_timeout)
            assert self._logins is not None
            self._legacy = await self._logins.list_logins()

    async def _shutdown(self) -> None:
        await self._shutdown_clients()
        await self._terminate()
        (self.data_dir / "mosquitto.pid").unlink(missing_ok=True)

    async def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    async def _spawn(self, exe: str) -> None:
        """Start mosquitto and wait until the admin login works; raise with its log if it fails."""
        log_path = self.data_dir / "mosquitto.log"
        if log_path.exists() and log_path.stat().st_size > 5_000_000:
            log_path.unlink()
        log_offset = log_path.stat().st_size if log_path.exists() else 0
        if self._ram_dir is not None:  # RAM is empty after a power cut: start from the disk
            await asyncio.to_thread(seed, self._ram_dir, self.disk_state, self._run_as)
        log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                exe,
                "-c",
                str(self.data_dir / "mosquitto.conf"),
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=log_fd,
                # Its own process group (a Ctrl-C in the terminal must not kill it before us),
                # but not its own session: see `_child_setup`.
                preexec_fn=functools.partial(_child_setup, self._run_as, os.getpid()),
            )
        finally:
            os.close(log_fd)
        # The broker's pid and ours: a later start stops the broker only if we are gone.
        write_replacing(self.data_dir / "mosquitto.pid", f"{self._proc.pid} {os.getpid()}\n")
        assert self._client is not None
        ready = asyncio.create_task(self._client.connect(self.start_timeout))
        exited = asyncio.create_task(self._proc.wait())
        done, _ = await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
        if ready in done:
            exited.cancel()
            ready.result()  # raises BrokerUnavailable / BrokerRejected on timeout
            return
        ready.cancel()
        with contextlib.suppress(asyncio.CancelledError, BrokerError):
            await ready
        tail = log_path.read_bytes()[log_offset:].decode(errors="replace").strip()[-800:]
        raise BrokerUnavailable(
            f"mosquitto exited with code {self._proc.returncode} while starting: "
            f"{tail or 'no output'} (config: {self.data_dir / 'mosquitto.conf'})"
        )

    async def _supervise(self, exe: str) -> None:
        loop = asyncio.get_running_loop()
        backoff = 0.5
        started = loop.time()
        while not self._stopping:
            assert self._proc is not None
            code = await self._proc.wait()
            if self._stopping:
                return
            if loop.time() - started > STABLE_AFTER_S:
                backoff = 0.5
            log.warning("mosquitto exited with code %s; restarting in %.1f s", code, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)
            started = loop.time()
            try:
                await self._spawn(exe)
            except BrokerError as error:
                log.error("mosquitto did not restart: %s", error)
                await self._terminate()
                self._proc = await asyncio.create_subprocess_exec("true")  # wait() returns at once
                continue
            self.restarts += 1
            log.info("mosquitto restarted (pid %s)", self._proc.pid)
            self._respawned()

    # ---- files -------------------------------------------------------------------------------

    def _prepare_files(self) -> str:
        """Create the data folder's files if missing; return the admin password."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o711)
        store_dir = self.data_dir / "store"
        store_dir.mkdir(exist_ok=True, mode=0o700)
        password_file = self.data_dir / "admin-password"
        store_file = store_dir / "dynamic-security.json"
        if password_file.exists():
            password = password_file.read_text().strip()
        else:
            password = secrets.token_urlsafe(32)
            write_private(password_file, password + "\n")
            store_file.unlink(missing_ok=True)  # a store without a known admin password is useless
        if not store_file.exists():
            write_initial_store(store_file, ADMIN_USERNAME, password)
        self._choose_ports()
        if self.lan is not None:
            from pooldesk_server.broker.tls import ensure_tls_files  # cryptography only when needed

            self._tls = ensure_tls_files(self.data_dir / "tls", self.lan.hostname)
        return password

    def _choose_ports(self) -> None:
        """Configured ports win; otherwise reuse the ports of the last run, or pick free ones."""
        ports_file = self.data_dir / "ports.json"
        try:
            saved = json.loads(ports_file.read_text())
        except (OSError, ValueError):
            saved = {}
        self.port = self._wanted_port or int(saved.get("tcp") or _free_port())
        self.websocket_port = (
            self._wanted_ws_port or int(saved.get("websockets") or _free_port())
            if self._websockets
            else 0
        )
        if self.websocket_port:
            log.warning(
                "the managed broker's websockets listener (port %d) is reachable from the "
                "network: Mosquitto 2.0 binds it to every interface whatever address it is "
                "given; firewall the port, or unset POOLDESK_MQTT_WS_PORT",
                self.websocket_port,
            )
        # Replaced atomically: another process may attach (and read it) at any moment.
        write_private(ports_file, json.dumps({"tcp": self.port, "websockets": self.websocket_port}))

    def _broker_user(self) -> str | None:
        """The `user` line, if any. As root, mosquitto is started as user `mosquitto` from the
        beginning (when that user can reach the store) rather than left to drop privileges
        itself: the kernel forgets the parent-death signal when a process changes user."""
        self._run_as = None
        if os.geteuid() != 0:
            return None
        store_dir = self.data_dir / "store"
        try:
            entry = pwd.getpwnam("mosquitto")
        except KeyError:
            log.warning("running mosquitto as root: there is no user 'mosquitto' to run it as")
            return "root"
        if not _reachable_by(store_dir, entry.pw_uid, entry.pw_gid):
            log.warning(
                "running mosquitto as root: user 'mosquitto' cannot reach %s (a folder above "
                "the data folder is closed); run the backend as its own user, or put the data "
                "folder where that user can reach it (--data-dir / POOLDESK_DATA_DIR)",
                store_dir,
            )
            return "root"
        _chown_tree(store_dir, entry.pw_uid, entry.pw_gid)
        if self._tls is not None:
            self._tls.grant_server_key(entry.pw_uid, entry.pw_gid)
        self._run_as = (entry.pw_uid, entry.pw_gid)
        return None

    def _write_config(self, plugin: str) -> None:
        store_dir = self.data_dir / "store"
        self._ram_dir = ram_dir_for(self.data_dir)
        state_dir = self._ram_dir or store_dir
        lines = [
            "# Generated by PoolDesk on every start; edits are overwritten.",
            "per_listener_settings false",
            "allow_anonymous false",
            "set_tcp_nodelay true",
            "persistence true",
            # In RAM when possible, copied to store/ by the backend (ramstore.py): the save's
            # fsync stalled every client for up to ~80 ms on a busy disk.
            f"persistence_location {state_dir}/",
            # Save the store every second, not once a minute: a crash (kill -9) loses at most
            # the last second of changes, a power cut about two (docs/operations.md, "Broker
            # and service faults").
            f"autosave_on_changes {'true' if AUTOSAVE_ON_CHANGES else 'false'}",
            f"autosave_interval {AUTOSAVE_INTERVAL}",
            # Limits (issue #17): no packet over 1 MiB (a 20 MiB retained message is refused, the
            # client is disconnected); an offline session keeps at most this much queued; a
            # session nobody resumes for 2 days is dropped with its queue.
            f"max_packet_size {MAX_PACKET_BYTES}",
            f"max_queued_messages {MAX_QUEUED_MESSAGES}",
            f"max_queued_bytes {MAX_QUEUED_BYTES}",
            "persistent_client_expiration 2d",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if self.plugin_path is not None:  # first: it answers for its logins, defers the rest
            lines += [
                f"plugin {self.plugin_path}",
                f"plugin_opt_journal {store_dir / JOURNAL_NAME}",
                f"plugin_opt_admin {ADMIN_USERNAME}",
            ]
        lines += [
            f"plugin {plugin}",
            f"plugin_opt_config_file {store_dir / 'dynamic-security.json'}",
            f"listener {self.port} 127.0.0.1",
        ]
        if self.websocket_port:
            lines += [f"listener {self.websocket_port} 127.0.0.1", "protocol websockets"]
        if self.lan is not None and self._tls is not None:
            lines += [
                f"listener {self.lan.port} {self.lan.bind}",
                f"certfile {self._tls.server_cert_file}",
                f"keyfile {self._tls.server_key_file}",
                "tls_version tlsv1.2",
            ]
        user = self._broker_user()
        if user:
            lines.append(f"user {user}")
        write_replacing(self.data_dir / "mosquitto.conf", "\n".join(lines) + "\n")

    async def attach(self) -> None:
        """Manage logins on the broker another process (`serve`) runs on this data folder,
        without starting or supervising it (for `pooldesk-backend recorder`)."""
        self._settle_home()
        if not self.running_elsewhere():
            raise BrokerUnavailable(
                f"no managed broker is running on {self.data_dir}: start `pooldesk-backend serve`"
            )
        try:
            ports = json.loads((self.data_dir / "ports.json").read_text())
            self.port, self.websocket_port = int(ports["tcp"]), int(ports.get("websockets") or 0)
            password = (self.data_dir / "admin-password").read_text().strip()
            config = (self.data_dir / "mosquitto.conf").read_text()
        except (OSError, ValueError, KeyError, TypeError) as error:
            # The broker is (re)starting, or the folder was damaged: retried, not a crash.
            raise BrokerUnavailable(
                f"the managed broker on {self.data_dir} cannot be reached: its files are "
                f"unreadable ({type(error).__name__}: {error}); if this lasts, restart "
                "`pooldesk-backend serve`"
            ) from None
        self.plugin_path = next(
            (
                Path(line.split(" ", 1)[1])
                for line in config.splitlines()
                if line.startswith("plugin ") and "pooldesk_logins" in line
            ),
            None,
        )
        self._make_clients(password)
        assert self._client is not None
        await self._client.connect(self.start_timeout)
        await self._connect_plugin()

    async def detach(self) -> None:
        await self._shutdown_clients()

    async def _shutdown_clients(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._plugin_client is not None:
            await self._plugin_client.close()

    def _pid_file(self) -> tuple[int, int | None] | None:
        """(broker pid, owner pid) from `mosquitto.pid`, if it names a live broker of this
        folder. Files of older versions hold only the broker's pid (owner unknown)."""
        self._settle_home()
        try:
            fields = (self.data_dir / "mosquitto.pid").read_text().split()
            pid = int(fields[0])
            owner = int(fields[1]) if len(fields) > 1 else None
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            return None
        if str(self.data_dir / "mosquitto.conf").encode() not in cmdline:
            return None
        return pid, owner

    def running_elsewhere(self) -> bool:
        """Is a broker of this data folder running, started by another process?"""
        if self.pid is not None:
            return False
        return self._pid_file() is not None

    def _stop_leftover(self) -> None:
        """Stop a broker a crashed backend left running on this data folder; refuse (without
        touching it) when the process that started it is still alive: that is a running server
        on the same folder, and stopping its broker would cut all of its clients."""
        pid_file = self.data_dir / "mosquitto.pid"
        found = self._pid_file()
        if found is not None:
            pid, owner = found
            if owner is not None and owner != os.getpid() and process_alive(owner):
                raise BrokerUnavailable(
                    f"data folder {self.data_dir.parent} in use by pid {owner}: its broker "
                    f"(pid {pid}) belongs to a running server; stop that one first"
                )
            log.warning("stopping a mosquitto (pid %s) left over from an earlier run", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.02)
        pid_file.unlink(missing_ok=True)

    # ---- BrokerBackend login operations ---------------------------------------------------------

    def _ops(self) -> DynsecLogins:
        if self._logins is None:
            raise BrokerUnavailable("the managed broker is not started")
        return self._logins

    async def put_login(self, login: BrokerLogin | HashedLogin) -> None:
        await self.put_logins([login])

    async def put_logins(self, logins: Sequence[BrokerLogin | HashedLogin]) -> None:
        """`HashedLogin`s only with the login plugin (`rights_change_in_place`)."""
        ops = self._ops()
        if self._plugin is not None:  # the plugin applies a batch at once: no lock needed
            await self._plugin.put_logins(logins)
            return
        plain = [login for login in logins if isinstance(login, BrokerLogin)]
        if len(plain) != len(logins):
            raise BrokerRejected("a login without its password needs the broker's login plugin")
        async with self._lock:
            await ops.put_logins(plain)

    async def delete_login(self, username: str) -> None:
        ops = self._ops()
        if self._plugin is not None:
            await self._plugin.delete_logins([username])
            if username not in self._legacy:  # not a login of an older version
                return
        async with self._lock:
            await ops.delete_login(username)
        self._legacy.discard(username)

    async def change_rights(self, username: str, rights: Rights) -> bool:
        """Without the login plugin only (dynamic security); with it, `put_login` a
        `HashedLogin` (the password's hash kept in `mqtt_logins`) changes rights in place."""
        ops = self._ops()
        if self._plugin is not None:
            raise BrokerRejected("with the login plugin, put the login with its password's hash")
        async with self._lock:
            return await ops.change_rights(username, rights)

    async def list_logins(self) -> set[str]:
        names = await self._ops().list_logins()
        if self._plugin is not None:
            names |= await self._plugin.list_logins()
        return names

    async def logins_used(self, usernames: Sequence[str]) -> dict[str, int] | None:
        """With the login plugin, the latest log-in with each of these logins since it was put
        (and the broker started); without it (dynamic security) None: unknown."""
        self._ops()
        if self._plugin is None:
            return None
        return await self._plugin.used_logins(usernames)

    async def import_logins(
        self, logins: Sequence[BrokerLogin | HashedLogin], *, replace_all: bool = False
    ) -> None:
        """Write many logins straight into the store and restart the broker (about a second).

        The plugin rewrites its whole JSON store after every single command, so creating logins
        one by one slows down as the store grows (tens of ms each at a few thousand logins); this
        path costs one rewrite. Connected clients are disconnected and reconnect by themselves.
        With `replace_all` the store ends up holding exactly these logins (plus the admin): what
        `broker sync` needs after the store was lost. `HashedLogin`s keep their old passwords.
        """
        ops = self._ops()
        if self._plugin is not None:
            await self._import_into_plugin(ops, self._plugin, logins, replace_all)
            return
        async with self._lock:
            store_file = self.data_dir / "store" / "dynamic-security.json"
            try:
                store = json.loads(await asyncio.to_thread(store_file.read_text))
                merged = merge_logins(store, logins, ADMIN_USERNAME, replace_all)
            except ValueError as error:
                raise BrokerRejected(f"cannot import logins: {error}") from None
            await self._pause()
            try:
                await asyncio.to_thread(_replace_store, store_file, merged)
            finally:
                await self._resume()
        if self.on_respawn is not None:  # outside the lock: the follow-up changes logins too
            await self._run_respawn_hook(self.on_respawn)

    async def _import_into_plugin(
        self,
        ops: DynsecLogins,
        plugin: PluginLogins,
        logins: Sequence[BrokerLogin | HashedLogin],
        replace_all: bool,
    ) -> None:
        """The plugin path of `import_logins`: no restart, nobody is disconnected but the
        logins that go. Everything is checked before anything changes."""
        for login in logins:
            put_line(login, ADMIN_USERNAME)
        if replace_all:
            keep = {login.username for login in logins}
            extra = sorted((await plugin.list_logins()) - keep)
            if extra:
                await plugin.delete_logins(extra)
            for name in sorted((await ops.list_logins()) - keep):
                async with self._lock:
                    await ops.delete_login(name)
                self._legacy.discard(name)
        await plugin.put_logins(logins)

    async def _pause(self) -> None:
        """Stop the broker without the supervisor restarting it."""
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        await self._terminate()

    async def _resume(self) -> None:
        assert self._exe is not None
        assert self._logins is not None
        await self._spawn(self._exe)
        await self._connect_plugin()
        await self._logins.set_default_acl_access()
        self._supervisor = asyncio.create_task(self._supervise(self._exe))

    def _respawned(self) -> None:
        if self.on_respawn is None:
            return
        if self._respawn_task is not None and not self._respawn_task.done():
            self._respawn_task.cancel()
        self._respawn_task = asyncio.create_task(self._run_respawn_hook(self.on_respawn))

    async def _run_respawn_hook(self, hook: Callable[[], Awaitable[None]]) -> None:
        try:
            await hook()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("after the broker restarted: follow-up failed")

    async def health(self) -> BrokerHealth:
        if self._proc is None or self._proc.returncode is not None:
            return BrokerHealth(False, "mosquitto is not running (the supervisor restarts it)")
        health = await self._ops().health()
        if health.ok and self._plugin is not None:
            return await self._plugin.health()
        return health


_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _child_setup(run_as: tuple[int, int] | None, parent: int) -> None:
    """In the child before exec: leave the terminal's foreground process group (a Ctrl-C must
    reach the backend, which then stops the broker, not the broker first); become the broker's
    user if asked (done here, not through `user=`/`group=`, which uvloop's subprocess support
    lacks); then ask for SIGTERM when the backend dies, even by SIGKILL, so a crashed backend
    never leaves an orphan broker. The order matters: changing user clears the parent-death
    signal. A backend that died before the signal was asked for (`parent`, its pid, is no
    longer our parent) would never send it: then the broker is not started at all.

    A new process group, not a new session (`setsid`): with the kernel's session autogroups
    (`kernel.sched_autogroup_enabled`, on by default), a session of its own makes the broker a
    scheduling group of its own, which on a busy machine waits far longer for a CPU each time a
    message wakes it. Measured on the shared 2-core machine: 6-9x more run-queue wait per ms of
    CPU, echo p99 264 ms instead of 34 ms (docs/mqtt.md, "Where the echo's tail came from")."""
    os.setpgid(0, 0)
    if run_as is not None:
        uid, gid = run_as
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)


def _replace_store(path: Path, store: dict) -> None:
    """Replace the store file, keeping its owner (the broker's user must still write it)."""
    owner = path.stat()
    write_private(path, json.dumps(store))
    os.chown(path, owner.st_uid, owner.st_gid)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
