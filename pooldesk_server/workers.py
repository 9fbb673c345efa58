"""`serve --workers N`: several HTTP worker processes on one listening socket.

Why our own supervisor and not uvicorn's `--workers`: uvicorn starts N identical processes, but
one of ours must be different. The *primary* worker (number 0) runs everything `serve` runs
with one process: the managed Mosquitto and its supervisor, the recorder, the broker layer's
reconcile and health loops, housekeeping, operator requests, firmware and hand-over loops. The
others serve HTTP only (`create_app(primary=False)`): they reach the primary's broker as a
client to issue and delete MQTT logins (as separate `serve` instances on one database always
could), and read everything else from the database. The primary must be up (its broker
running) before the others attach to it, and a replaced primary must be a primary again.

How the port is shared: the parent first binds it plainly (a busy port is reported before
anything starts, as with one process), then gives each worker a socket of its own on the port
(SO_REUSEPORT), and the kernel spreads new connections over them. One socket shared by all
was tried first: whichever worker woke first accepted a whole burst (wrk's 64 connections split
16 / 48), so one worker was saturated while the other idled, and the device list's p99 stayed
above 25 ms. The cost: a process of the same user could join the port on purpose (it must ask
for SO_REUSEPORT too), and a worker that dies takes the connections waiting in its queue with
it; the parent closes that socket at once, so new connections go to the others until the
replacement has a socket again.

Processes are *spawned* (a fresh interpreter each), never forked from the parent after it has
run an event loop and opened database connections. The parent takes the data folder's lock and
every worker holds it too (a duplicate of the descriptor, handed over at spawn; an flock belongs
to the open file description), so the folder stays locked until the last of them ends, also if
the parent is killed while its workers finish their requests. The parent does nothing but
supervise:

- a worker that exits is replaced (logged: "worker N (pid P) exited with code C; starting a new
  one"); one that exits within `QUICK_EXIT_S` of its start is started again after a pause that
  doubles each time in a row, and at the `QUICK_EXITS_LIMIT`th such exit, or if the system
  refuses to spawn a worker, every worker is stopped and `serve` exits 1 ("the server stopped
  after serving: ..."); any worker failing while the server starts stops it the same way ("the
  server did not start");
- when worker 0 exits, the parent replaces its health report for the other workers by "the
  primary worker ... exited", so their `/healthz` says the broker is down at once;
- SIGTERM or SIGINT: every worker gets SIGTERM (the primary stops the broker in its shutdown),
  they are awaited (SIGKILL after `STOP_TIMEOUT_S`), and `serve` exits 0;
- each worker asks the kernel for SIGTERM when the parent dies, even by SIGKILL, and the
  primary's broker does the same with the primary: nothing is left behind.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import reduction
from multiprocessing.connection import wait
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from types import FrameType
from typing import Any

from pooldesk_server.broker.health_report import write_report
from pooldesk_server.server import PortUnavailable, bind
from pooldesk_server.settings import Settings

log = logging.getLogger("pooldesk_server.workers")

START_TIMEOUT_S = 120.0  # migrations and a broker start happen in the primary's start-up
STOP_TIMEOUT_S = 30.0
_PR_SET_PDEATHSIG = 1


# A worker that exits within QUICK_EXIT_S of being started is crashing, not dying now and then:
# it is started again after a growing pause (1, 2, 4 … s, at most MAX_PAUSE_S), and after
# QUICK_EXITS_LIMIT such exits in a row the server gives up. Each respawn of worker 0 restarts
# Mosquitto and marks every device offline, so restarting it in a tight loop helps no one.
QUICK_EXIT_S = 10.0
QUICK_EXITS_LIMIT = 5
MAX_PAUSE_S = 30.0


class WorkersFailed(Exception):
    """The server could not start, or could not keep its workers running."""


def restart_pause(quick_exits: int) -> float:
    """Seconds to wait before starting a worker that exited quickly `quick_exits` times in a
    row (0: it had run a while, start it at once)."""
    return 0.0 if quick_exits <= 0 else min(2.0 ** (quick_exits - 1), MAX_PAUSE_S)


class _InheritedFd:
    """An open descriptor handed to a spawned worker: the child gets a duplicate of the same
    open file description (so an flock taken on it is held by the child too)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __reduce__(self) -> tuple[Callable[[Any], int], tuple[Any]]:
        # Pickled while the worker is spawned: the descriptor goes to the child at exec.
        return (_detach_fd, (reduction.DupFd(self.fd),))


def _detach_fd(duplicate: Any) -> int:
    fd: int = duplicate.detach()
    return fd


def _die_with_parent(parent: int) -> None:
    """SIGTERM to this process when the supervisor dies (even by SIGKILL)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the supervisor died before we asked
        os.kill(os.getpid(), signal.SIGTERM)


def run_worker(
    number: int,
    settings: Settings,
    sock: socket.socket,
    log_level: str,
    started: Event,
    parent: int,
    folder_lock: int,
) -> None:
    """A worker process's body (spawned): the app, served on the shared socket. `folder_lock`
    (the data folder's lock, shared with the supervisor) stays open until the process ends."""
    _die_with_parent(parent)
    # Held (never closed) until this process ends; not passed on to the broker it may start.
    os.set_inheritable(folder_lock, False)
    from pooldesk_server.cli import configure_logging, serve_app

    configure_logging(log_level, settings, worker=number)
    served = serve_app(settings, sock, log_level, primary=number == 0, on_started=started.set)
    sys.exit(0 if served else 1)


@dataclass
class _Worker:
    process: SpawnProcess
    started: Event  # set by the worker once it serves
    spawned_at: float  # time.monotonic()


class Supervisor:
    """Starts `count` workers on `sock`, keeps them running, stops them on SIGTERM/SIGINT.

    `folder_lock` is the descriptor of the data folder's lock (pooldesk_server/datalock.py):
    every worker holds it too, so the folder stays locked until the last of them has ended —
    also when this supervisor is killed and its workers are still finishing their requests."""

    def __init__(
        self,
        settings: Settings,
        sock: socket.socket,
        count: int,
        log_level: str,
        folder_lock: int,
    ):
        self.settings, self.count, self.log_level = settings, count, log_level
        # The plain socket proved the port free; each worker gets a shared one instead.
        self.address: tuple[str, int] = sock.getsockname()[:2]
        sock.close()
        self.sockets: dict[int, socket.socket] = {}  # worker number -> its socket
        self.folder_lock = folder_lock
        self._context = multiprocessing.get_context("spawn")
        self.workers: dict[int, _Worker] = {}
        self.quick_exits: dict[int, int] = {}  # per worker number, in a row
        self.due: dict[int, float] = {}  # worker number -> when to start it again
        self.stopping = False
        self.serving = False  # every worker had started: a failure now is not a failed start

    def _on_signal(self, _sig: int, _frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> None:
        """Serve until SIGTERM/SIGINT; WorkersFailed if the server cannot start or keep going."""
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self._start_all()
            if self.stopping:
                return
            self.serving = True
            pids = ", ".join(str(w.process.pid) for w in self.workers.values())
            log.info(
                "%d workers serving (pids %s; worker 0 runs the broker, the recorder and the "
                "background jobs)",
                self.count,
                pids,
            )
            self._watch()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _start_all(self) -> None:
        # The primary first: it migrates, starts the broker; the others then attach to it.
        self._spawn(0)
        self._await_start(0)
        for number in range(1, self.count):
            if self.stopping:
                return
            self._spawn(number)
        for number in range(1, self.count):
            self._await_start(number)

    def _spawn(self, number: int) -> None:
        """Start worker `number` (not waiting for it to serve); WorkersFailed if the system
        refuses a process (out of processes, descriptors or memory)."""
        try:
            sock = self.sockets.get(number)
            if sock is None:
                sock = self.sockets[number] = bind(*self.address, shared=True)
            started = self._context.Event()
            process = self._context.Process(
                target=run_worker,
                args=(
                    number,
                    self.settings,
                    sock,
                    self.log_level,
                    started,
                    os.getpid(),
                    _InheritedFd(self.folder_lock),
                ),
                name=f"pooldesk-worker-{number}",
                daemon=False,
            )
            process.start()
        except (OSError, PortUnavailable) as error:
            raise WorkersFailed(f"worker {number} could not be started: {error}") from None
        self.workers[number] = _Worker(process, started, time.monotonic())

    def _await_start(self, number: int) -> None:
        worker = self.workers[number]
        while not worker.started.wait(0.1):
            if self.stopping:
                return
            self._check_starting(number, worker)

    def _check_starting(self, number: int, worker: _Worker) -> None:
        """While the server starts: any worker that dies or hangs stops it."""
        process = worker.process
        if not process.is_alive():
            raise WorkersFailed(
                f"worker {number} (pid {process.pid}) exited with code {process.exitcode} "
                "while starting; the log above says why"
            )
        self._check_start_time(number, worker)

    def _check_start_time(self, number: int, worker: _Worker) -> None:
        process = worker.process
        if time.monotonic() - worker.spawned_at > START_TIMEOUT_S:
            raise WorkersFailed(
                f"worker {number} (pid {process.pid}) did not start within {START_TIMEOUT_S:.0f} s"
            )

    def _watch(self) -> None:
        while not self.stopping:
            now = time.monotonic()
            timeout = min([0.5, *(due - now for due in self.due.values())])
            wait([w.process.sentinel for w in self.workers.values()], timeout=max(0.0, timeout))
            for number, worker in list(self.workers.items()):
                if self.stopping:
                    return
                # One look at whether it lives: a replacement that dies while starting is a
                # quick exit like any other (paused, counted), never "the server did not start".
                if not worker.process.is_alive():
                    self._exited(number, worker)
                elif not worker.started.is_set():
                    self._check_start_time(number, worker)
            for number, due in sorted(self.due.items()):
                if self.stopping:
                    return
                if time.monotonic() >= due:
                    del self.due[number]
                    self._spawn(number)
                    pid = self.workers[number].process.pid
                    log.info("worker %d replaced (pid %s)", number, pid)

    def _exited(self, number: int, worker: _Worker) -> None:
        """Worker `number` ended: start it again (after a pause if it ran only briefly), or
        give up with WorkersFailed after too many quick exits in a row."""
        process = worker.process
        del self.workers[number]  # nothing refers to the closed process any more
        # Its socket goes too: the kernel would keep queueing new connections on it.
        dead_socket = self.sockets.pop(number, None)
        if dead_socket is not None:
            dead_socket.close()
        pid, code = process.pid, process.exitcode
        process.close()
        if number == 0:
            self._primary_gone(pid)
        ran = time.monotonic() - worker.spawned_at
        quick = self.quick_exits.get(number, 0) + 1 if ran < QUICK_EXIT_S else 0
        self.quick_exits[number] = quick
        if quick >= QUICK_EXITS_LIMIT:
            raise WorkersFailed(
                f"worker {number} (pid {pid}) exited with code {code} after {ran:.1f} s, the "
                f"{quick}th time in a row within {QUICK_EXIT_S:.0f} s of its start: giving up "
                "(the log above says why it exits)"
            )
        pause = restart_pause(quick)
        later = f" in {pause:.0f} s (it ran {ran:.1f} s)" if pause else ""
        log.error(
            "worker %d (pid %s) exited with code %s; starting a new one%s", number, pid, code, later
        )
        self.due[number] = time.monotonic() + pause

    def _primary_gone(self, pid: int | None) -> None:
        """Worker 0 (the broker's) ended: the other workers report the broker down at once,
        not when the primary's last report has grown stale."""
        detail = f"the primary worker (pid {pid}), which runs the broker, exited; restarting it"
        write_report(self.settings.data_dir, {"broker": {"ok": False, "detail": detail}})

    def _stop_all(self) -> None:
        processes = [w.process for w in self.workers.values()]
        alive = [p for p in processes if p.is_alive()]
        for process in alive:
            process.terminate()  # SIGTERM: a graceful uvicorn shutdown (the broker stops too)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for process in alive:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker pid %s did not stop in time: killing it", process.pid)
                process.kill()
                process.join()
        failed = [
            f"{n} (code {w.process.exitcode})"
            for n, w in self.workers.items()
            if w.process.exitcode not in (0,)
        ]
        if failed and self.stopping:
            log.warning("workers that did not stop cleanly: %s", ", ".join(failed))
        for sock in self.sockets.values():
            sock.close()
        self.sockets.clear()
