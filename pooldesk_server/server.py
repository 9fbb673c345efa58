"""Running uvicorn the way the CLI documents: a busy port is a plain error before anything is
started, and SIGINT/SIGTERM end `serve` with exit status 0."""

from __future__ import annotations

import contextlib
import errno
import signal
import socket
import threading
from collections.abc import Callable, Iterator

import uvicorn


class PortUnavailable(Exception):
    pass


def bind(host: str, port: int, *, shared: bool = False) -> socket.socket:
    """A listening-ready socket on host:port, or PortUnavailable with a message to act on.
    `shared`: one of several sockets on the port (SO_REUSEPORT), one per worker of `serve
    --workers N`; the kernel spreads new connections over them."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise PortUnavailable(f"--host {host}: {exc.strerror}") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortUnavailable(
                f"port {port} on {host} is already in use (another pooldesk-backend serve?); "
                "stop it or choose another --port"
            ) from None
        raise PortUnavailable(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


class QuietServer(uvicorn.Server):
    """uvicorn's server, except that a SIGINT/SIGTERM shutdown ends the command normally
    (exit status 0) instead of raising the signal again once the server has stopped (which
    uvicorn does, giving status 143 for SIGTERM and a traceback for SIGINT). `on_started` is
    called once it accepts connections (a worker tells its supervisor)."""

    def __init__(
        self, config: uvicorn.Config, on_started: Callable[[], None] | None = None
    ) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._on_started is not None:
            self._on_started()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        signals = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in signals}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
