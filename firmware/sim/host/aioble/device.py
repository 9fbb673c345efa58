"""aioble's ``Device``, ``DeviceConnection`` and ``DeviceTimeout`` on a Bumble connection."""

from __future__ import annotations

import asyncio
import binascii
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import RadioState


class DeviceDisconnectedError(Exception):
    """Raised by ``with connection.timeout(...)`` when the peer disconnects meanwhile."""


class DeviceTimeout:
    """``with DeviceTimeout(connection, timeout_ms):`` around an await: a timeout raises
    ``asyncio.TimeoutError``; the connection dropping raises ``DeviceDisconnectedError``.
    Either argument may be None."""

    def __init__(self, connection: DeviceConnection | None, timeout_ms: int | None) -> None:
        self._connection = connection
        self._timeout_ms = timeout_ms
        self._task = asyncio.current_task()
        self._timer: asyncio.TimerHandle | None = None
        self._expired = False
        self._disconnected = False
        self._cancelling = 0

    def __enter__(self) -> DeviceTimeout:
        self._cancelling = self._task.cancelling() if self._task is not None else 0
        if self._connection is not None:
            if not self._connection.is_connected():
                raise DeviceDisconnectedError
            self._connection._timeouts.append(self)
        if self._timeout_ms:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self._timeout_ms / 1000, self._expire)
        return self

    def _expire(self) -> None:
        if not self._disconnected:
            self._expired = True
            self._cancel_task()

    def _on_disconnect(self) -> None:
        if not self._expired:
            self._disconnected = True
            self._cancel_task()

    def _cancel_task(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._task is not None:
            self._task.cancel()

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> bool:
        if self._connection is not None and self in self._connection._timeouts:
            self._connection._timeouts.remove(self)
        if self._timer is not None:
            self._timer.cancel()
        if exc_type is asyncio.CancelledError and (self._expired or self._disconnected):
            # Ours only if nobody else cancelled the task meanwhile (as asyncio.timeout does).
            if self._task is not None and self._task.uncancel() > self._cancelling:
                return False
            if self._expired:
                raise TimeoutError
            raise DeviceDisconnectedError
        return False


class Device:
    """A peer's address (``addr_type`` 0 public / 1 random, ``addr`` 6 bytes)."""

    def __init__(self, addr_type: int, addr: bytes | str) -> None:
        self.addr_type = addr_type
        if isinstance(addr, str):
            addr = binascii.unhexlify(addr.replace(":", ""))
        self.addr = bytes(addr)
        self._connection: DeviceConnection | None = None

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Device)
            and self.addr_type == other.addr_type
            and self.addr == other.addr
        )

    def __hash__(self) -> int:
        return hash((self.addr_type, self.addr))

    def addr_hex(self) -> str:
        return binascii.hexlify(self.addr, ":").decode()

    def __str__(self) -> str:
        kind = "ADDR_PUBLIC" if self.addr_type == 0 else "ADDR_RANDOM"
        return f"Device({kind}, {self.addr_hex()}{', CONNECTED' if self._connection else ''})"


class DeviceConnection:
    """One central connected to this simulated controller."""

    def __init__(self, device: Device) -> None:
        self.device = device
        device._connection = self
        self.encrypted = False
        self.authenticated = False
        self.bonded = False
        self.key_size = 0
        self._conn_handle: int | None = None
        self._bumble: Any = None
        self._state: RadioState | None = None
        self._timeouts: list[DeviceTimeout] = []
        self._gone = asyncio.Event()
        self._disconnect_request: asyncio.Future[Any] | None = None

    @classmethod
    def from_bumble(cls, state: RadioState, bumble_connection: Any) -> DeviceConnection:
        peer = bumble_connection.peer_address
        connection = cls(Device(0 if peer.is_public else 1, bytes(reversed(bytes(peer)))))
        connection._conn_handle = bumble_connection.handle
        connection._bumble = bumble_connection
        connection._state = state
        bumble_connection.on("disconnection", connection._on_disconnection)
        return connection

    def _on_disconnection(self, reason: int) -> None:
        if self._state is not None and self._conn_handle is not None:
            self._state.connections.pop(self._conn_handle, None)
        self._conn_handle = None
        self.device._connection = None
        self._gone.set()
        for timeout in list(self._timeouts):
            timeout._on_disconnect()

    @property
    def mtu(self) -> int:
        """The ATT MTU in use (23 until the central asks for more)."""
        return self._bumble.att_mtu if self._bumble is not None else 23

    def is_connected(self) -> bool:
        return self._conn_handle is not None

    def timeout(self, timeout_ms: int | None) -> DeviceTimeout:
        return DeviceTimeout(self, timeout_ms)

    async def disconnected(self, timeout_ms: int | None = 60000, disconnect: bool = False) -> None:
        if not self.is_connected():
            return
        if disconnect:
            self._disconnect_request = asyncio.ensure_future(self._bumble.disconnect())
            self._disconnect_request.add_done_callback(_forget_result)
        with DeviceTimeout(None, timeout_ms):
            await self._gone.wait()

    async def disconnect(self, timeout_ms: int = 2000) -> None:
        await self.disconnected(timeout_ms, disconnect=True)

    async def exchange_mtu(self, mtu: int | None = None, timeout_ms: int = 1000) -> int:
        if not self.is_connected():
            raise ValueError("Not connected")
        if mtu:
            assert self._state is not None
            self._state.peripheral.preferred_mtu = mtu
        assert self._state is not None
        wanted = self._state.peripheral.preferred_mtu
        with self.timeout(timeout_ms):
            await self._bumble.gatt_client.request_mtu(wanted)
        return self.mtu

    async def __aenter__(self) -> DeviceConnection:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.disconnect()


def _forget_result(request: asyncio.Future[Any]) -> None:
    """A disconnect request may fail when the peer already left; that is not an error."""
    if not request.cancelled():
        request.exception()
