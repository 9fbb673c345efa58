"""`serve --workers N`: several HTTP worker processes on one listening socket.

Why our own supervisor and not uvicorn's `--workers`: uvicorn starts N identical processes, but
one of ours must be different. The *primary* worker (number 0) runs everything `serve` runs
with one process: the managed Mosquitto and its supervisor, the recorder, the broker layer's
reconcile and health loops, housekeeping, operator requests, firmware and hand-over loops. The
others serve HTTP only (`create_app(primary=False)`): they reach the primary's broker as a
client to issue and delete MQTT logins (as separate `serve` instances on one database always
could), and read everything else from the database. The primary must be up (its broker
running) before the others attach to it, and a replaced primary must be a primary again.

How the socket is shared: the parent binds it once (a busy port is reported before anything
starts, as with one process) and every worker accepts on that same socket, inherited at spawn.
Not SO_REUSEPORT: that would let any process of the same user join the port unnoticed, and the
kernel would hash connections to a busy worker as readily as to an idle one.

Processes are *spawned* (a fresh interpreter each), never forked from the parent after it has
run an event loop and opened database connections. The parent holds the data folder's lock for
the whole run and does nothing but supervise:

- a worker that exits after it had started is replaced (logged: "worker N (pid P) exited with
  code C; starting a new one"); if the replacement does not start, or any worker fails while
  the server starts, every worker is stopped and `serve` exits 1 ("the server did not start");
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
from multiprocessing.connection import wait
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from types import FrameType

from pooldesk_server.settings import Settings

log = logging.getLogger("pooldesk_server.workers")

START_TIMEOUT_S = 120.0  # migrations and a broker start happen in the primary's start-up
STOP_TIMEOUT_S = 30.0
_PR_SET_PDEATHSIG = 1


class WorkersFailed(Exception):
    """The server could not start, or could not keep its workers running."""


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
) -> None:
    """A worker process's body (spawned): the app, served on the shared socket."""
    _die_with_parent(parent)
    from pooldesk_server.cli import configure_logging, serve_app

    configure_logging(log_level, settings, worker=number)
    served = serve_app(settings, sock, log_level, primary=number == 0, on_started=started.set)
    sys.exit(0 if served else 1)


class Supervisor:
    """Starts `count` workers on `sock`, keeps them running, stops them on SIGTERM/SIGINT."""

    def __init__(self, settings: Settings, sock: socket.socket, count: int, log_level: str):
        self.settings, self.sock, self.count, self.log_level = settings, sock, count, log_level
        self._context = multiprocessing.get_context("spawn")
        self.workers: dict[int, SpawnProcess] = {}
        self.started: dict[int, Event] = {}  # set by each worker once it serves
        self.stopping = False

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
            pids = ", ".join(str(p.pid) for p in self.workers.values())
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
        self._start(0)
        for number in range(1, self.count):
            if self.stopping:
                return
            self._start(number, wait_until_started=False)
        for number in range(1, self.count):
            self._await_start(number)

    def _start(self, number: int, *, wait_until_started: bool = True) -> None:
        started = self._context.Event()
        process = self._context.Process(
            target=run_worker,
            args=(number, self.settings, self.sock, self.log_level, started, os.getpid()),
            name=f"pooldesk-worker-{number}",
            daemon=False,
        )
        process.start()
        self.workers[number], self.started[number] = process, started
        if wait_until_started:
            self._await_start(number)

    def _await_start(self, number: int) -> None:
        process, started = self.workers[number], self.started[number]
        deadline = time.monotonic() + START_TIMEOUT_S
        while not started.wait(0.1):
            if self.stopping:
                return
            if not process.is_alive():
                raise WorkersFailed(
                    f"worker {number} (pid {process.pid}) exited with code {process.exitcode} "
                    "while starting; the log above says why"
                )
            if time.monotonic() > deadline:
                raise WorkersFailed(
                    f"worker {number} (pid {process.pid}) did not start within "
                    f"{START_TIMEOUT_S:.0f} s"
                )

    def _watch(self) -> None:
        while not self.stopping:
            sentinels = [p.sentinel for p in self.workers.values()]
            wait(sentinels, timeout=0.5)
            for number, process in list(self.workers.items()):
                if self.stopping or process.is_alive():
                    continue
                log.error(
                    "worker %d (pid %s) exited with code %s; starting a new one",
                    number,
                    process.pid,
                    process.exitcode,
                )
                process.close()
                self._start(number)
                log.info("worker %d replaced (pid %s)", number, self.workers[number].pid)

    def _stop_all(self) -> None:
        alive = [p for p in self.workers.values() if p.exitcode is None and p.is_alive()]
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
            f"{n} (code {p.exitcode})" for n, p in self.workers.items() if p.exitcode not in (0,)
        ]
        if failed and self.stopping:
            log.warning("workers that did not stop cleanly: %s", ", ".join(failed))
