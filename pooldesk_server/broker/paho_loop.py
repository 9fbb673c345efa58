"""paho-mqtt driven by the asyncio loop: no paho thread, every callback runs on the loop's thread.

One adapter for the backend's MQTT clients and the desktop app's broker link (it imports nothing
from Qt or the rest of the server). paho's socket callbacks register its socket with
`loop.add_reader` / `add_writer`, and a small task calls `loop_misc()` every second for keepalive.
Only the blocking connect (DNS, TCP, TLS and websocket handshakes) runs in a worker thread; the
socket callbacks it triggers hop back to the loop with `call_soon_threadsafe`. Sockets get
TCP_NODELAY: every message here is small and latency-bound.

With `reconnect=(min_s, max_s)` the adapter reconnects by itself after a failed connect or a lost
connection, waiting min_s, then twice as long each time up to max_s (back to min_s once a
connection is up), as paho's own thread does; the client's `on_connect` resubscribes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from typing import Any

import paho.mqtt.client as mqtt

log = logging.getLogger(__name__)

CONNECT_ERRORS = (OSError, ssl.SSLError, ValueError, TimeoutError, mqtt.WebsocketConnectionError)


class PahoOnLoop:
    """Drive one paho client from the running asyncio loop (create it on that loop)."""

    def __init__(
        self,
        client: mqtt.Client,
        *,
        reconnect: tuple[float, float] | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        self.client = client
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._reconnect = reconnect
        self._delay = reconnect[0] if reconnect else 0.0
        self._connect_timeout = connect_timeout
        self._sockets: set[Any] = set()
        self._active = True
        self._misc: asyncio.Task[None] | None = None
        self._retrying: asyncio.Task[None] | None = None
        self._connecting: asyncio.Future[Any] | None = None  # the last connect's thread
        self.socket_closed = asyncio.Event()  # set whenever paho closed its socket
        client.connect_timeout = connect_timeout
        client.on_socket_open = self._socket_open
        client.on_socket_close = self._socket_close
        client.on_socket_register_write = self._want_write
        client.on_socket_unregister_write = self._done_writing

    # ---- public -------------------------------------------------------------------------------

    async def connect(self, host: str, port: int, keepalive: int = 30, **options: Any) -> None:
        """Open the connection once (CONNECT sent; CONNACK arrives in `on_connect`).

        Raises what the connection raised (`CONNECT_ERRORS`) or TimeoutError."""
        self.client.connect_async(host, port, keepalive, **options)
        await self._attempt()
        self._start_misc()

    def start(self, host: str, port: int, keepalive: int = 30, **options: Any) -> None:
        """Connect in the background and keep the connection up (needs `reconnect`)."""
        assert self._reconnect is not None, "start() keeps retrying: give reconnect=(min, max)"
        self.client.connect_async(host, port, keepalive, **options)
        self._start_misc()
        self._retry_soon(first=True)

    async def close(self, *, graceful: bool = True, within: float = 1.0) -> None:
        """Stop reconnecting; send DISCONNECT when connected (waiting up to `within` for the
        broker to close); close the socket."""
        self._active = False
        retrying, self._retrying = self._retrying, None
        if retrying is not None:
            retrying.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await retrying
        if graceful and self._sockets and self.client.is_connected():
            self.socket_closed.clear()
            self.client.disconnect()  # written by the loop's writer; paho then closes the socket
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.socket_closed.wait(), within)
        misc, self._misc = self._misc, None
        if misc is not None:
            misc.cancel()
        for sock in list(self._sockets):
            self._forget(sock)
            with contextlib.suppress(OSError):
                sock.close()

    # ---- connecting ---------------------------------------------------------------------------

    async def _attempt(self) -> None:
        """One blocking `reconnect()` in a worker thread, waited for up to the connect timeout
        + 1 s. The thread cannot be stopped: paho bounds each socket call by the timeout, not
        the whole connect (TCP, then a TLS or websocket handshake that may trickle). A connect
        that outlived our wait is awaited before the next one starts: two `reconnect()` calls
        at once on one client would share, and break, its socket."""
        running, self._connecting = self._connecting, None
        if running is not None:  # the last one outlived our wait: still running, or done late
            if not running.done():
                await asyncio.wait({running})
            if not running.cancelled() and running.exception() is None and self._sockets:
                return  # it got through after all, and its connection is up: keep it
        self._connecting = attempt = self._loop.run_in_executor(None, self.client.reconnect)
        attempt.add_done_callback(_retrieve)  # its failure is seen here, or by the next attempt
        try:
            await asyncio.wait_for(asyncio.shield(attempt), self._connect_timeout + 1)
        finally:
            if attempt.done():  # finished within our wait: nothing left to wait for
                self._connecting = None

    def _start_misc(self) -> None:
        if self._misc is None:
            self._misc = self._loop.create_task(self._misc_loop(), name="paho-misc")

    async def _misc_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            self.client.loop_misc()  # keepalive: PINGREQ, or closes a connection gone silent

    def _retry_soon(self, *, first: bool = False) -> None:
        if not self._active or self._reconnect is None:
            return
        if self._retrying is None or self._retrying.done():
            self._retrying = self._loop.create_task(self._retry(first), name="paho-reconnect")

    async def _retry(self, first: bool) -> None:
        assert self._reconnect is not None
        while self._active:
            if not first:
                await asyncio.sleep(self._delay)
                self._delay = min(self._delay * 2, self._reconnect[1])
            first = False
            try:
                await self._attempt()
            except CONNECT_ERRORS as error:
                log.debug("mqtt connect failed: %s", error)
                continue
            if self._sockets:
                return  # CONNECT is sent on an open socket: on_connect says the rest
            # The broker closed it before this task saw the connect succeed (a refused login,
            # a protocol error): that close found this task still running and started no
            # other, so this one goes on.

    # ---- paho socket callbacks (the connect's worker thread, or the loop) ----------------------

    def _on_loop(self, fn: Callable[[], None]) -> None:
        if self._loop.is_closed():  # e.g. paho closing its socket when collected after the loop
            return
        if threading.get_ident() == self._loop_thread:
            fn()
        else:
            self._loop.call_soon_threadsafe(fn)

    def _socket_open(self, _client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        raw = getattr(sock, "_socket", sock)  # the websocket wrapper keeps the TCP socket inside
        with contextlib.suppress(OSError, AttributeError):
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def register() -> None:
            if not self._active:  # a connect that finished after close(): nobody reads it
                with contextlib.suppress(OSError):
                    sock.close()
                return
            self._sockets.add(sock)
            self.socket_closed.clear()
            self._loop.add_reader(sock, self._readable, sock)

        self._on_loop(register)

    def _readable(self, sock: Any) -> None:
        self.client.loop_read()
        # TLS and websocket wrappers can hold decoded bytes the selector cannot see.
        pending = getattr(sock, "pending", None)
        rounds = 0
        while pending and sock in self._sockets and pending() > 0 and rounds < 100:
            self.client.loop_read()
            rounds += 1
        if self._reconnect is not None and self.client.is_connected():
            self._delay = self._reconnect[0]

    def _socket_close(self, _client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        def closed() -> None:
            self._forget(sock)
            self.socket_closed.set()
            self._retry_soon()

        self._on_loop(closed)

    def _forget(self, sock: Any) -> None:
        if sock in self._sockets and not self._loop.is_closed():
            self._sockets.discard(sock)
            with contextlib.suppress(ValueError, OSError):  # already closed
                self._loop.remove_reader(sock)
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_writer(sock)

    def _want_write(self, _client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        def register() -> None:
            # While the socket is ours, not only while active: close() queues a DISCONNECT
            # after it stopped reconnecting, and that packet must still be written.
            if sock in self._sockets:
                self._loop.add_writer(sock, self.client.loop_write)

        self._on_loop(register)

    def _done_writing(self, _client: mqtt.Client, _userdata: Any, sock: Any) -> None:
        def unregister() -> None:
            if not self._loop.is_closed():
                with contextlib.suppress(ValueError, OSError):
                    self._loop.remove_writer(sock)

        self._on_loop(unregister)


async def wait_published(infos: Iterable[mqtt.MQTTMessageInfo], within: float) -> bool:
    """Wait (on the loop, without blocking it) until the broker acknowledged these QoS 1
    publishes; False when `within` seconds passed first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    for info in infos:
        while not info.is_published():
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.01)
    return True


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a connect's failure as seen (asyncio warns about a failure nobody read)."""
    if not future.cancelled():
        future.exception()
