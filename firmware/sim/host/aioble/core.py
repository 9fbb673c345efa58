"""Shared pieces of the aioble stand-in: the per-radio state and aioble's small helpers.

All state lives on the simulated controller's radio (``firmware.sim.blectx.PERIPHERAL``), never
at module level, so several simulated controllers can run in one process.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from firmware.sim.blectx import PERIPHERAL, SimPeripheral

if TYPE_CHECKING:
    from .device import DeviceConnection
    from .server import BaseCharacteristic

log = logging.getLogger("aioble")

# aioble keeps at most this many captured writes waiting; the oldest are dropped.
WRITE_CAPTURE_QUEUE_LIMIT = 10


class GattError(Exception):
    """An ATT error status (aioble raises it for failed indications)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self._status = status


class Flag:
    """asyncio.ThreadSafeFlag's behaviour: ``wait()`` returns once set and clears the flag."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    async def wait(self) -> None:
        await self._event.wait()
        self._event.clear()


class CaptureQueue:
    """Captured writes of one radio, handed to ``written()`` callers strictly in arrival order
    (a characteristic's next write waits until the previous one was taken, as in aioble)."""

    def __init__(self) -> None:
        self._queue: deque[tuple[Any, bytes, BaseCharacteristic]] = deque(
            (), WRITE_CAPTURE_QUEUE_LIMIT
        )
        self._in_flight = False

    def push(self, connection: Any, data: bytes, characteristic: BaseCharacteristic) -> None:
        if len(self._queue) == WRITE_CAPTURE_QUEUE_LIMIT:
            log.warning("capture queue full: the oldest unread write is dropped")
        self._queue.append((connection, data, characteristic))
        self._deliver()

    def consumed(self) -> None:
        self._in_flight = False
        self._deliver()

    def _deliver(self) -> None:
        if self._in_flight or not self._queue:
            return
        connection, data, characteristic = self._queue.popleft()
        self._in_flight = True
        characteristic._write_data = (connection, data)
        characteristic._write_event.set()


class RadioState:
    """What aioble keeps per radio: registered attributes, live connections, captured writes."""

    def __init__(self, peripheral: SimPeripheral) -> None:
        self.peripheral = peripheral
        self.connections: dict[int, DeviceConnection] = {}
        self.capture = CaptureQueue()
        self.pending_connection: asyncio.Future[DeviceConnection] | None = None
        server = peripheral.device.gatt_server
        # Attributes present before the firmware registers anything (GAP and GATT services);
        # register_services() replaces everything after them, as gatts_register_services does.
        self.base_attribute_count = len(server.attributes)
        self.base_service_count = len(server.services)
        peripheral.device.on("connection", self._on_connection)
        peripheral.on_close(self._on_radio_off)

    def _on_radio_off(self) -> None:
        """A firmware task still waiting for a central when the radio goes off gets OSError."""
        pending, self.pending_connection = self.pending_connection, None
        if pending is not None and not pending.done():
            pending.set_exception(OSError("the simulated Bluetooth radio is off"))
            pending.exception()  # its task may be gone already (cancelled by the power cut)

    def _on_connection(self, bumble_connection: Any) -> None:
        from .device import DeviceConnection

        connection = DeviceConnection.from_bumble(self, bumble_connection)
        self.connections[bumble_connection.handle] = connection
        pending, self.pending_connection = self.pending_connection, None
        if pending is not None and not pending.done():
            pending.set_result(connection)

    def connection_for(self, bumble_connection: Any) -> DeviceConnection | None:
        return self.connections.get(bumble_connection.handle)


def radio() -> RadioState:
    """This task's radio state, created on first use."""
    try:
        peripheral = PERIPHERAL.get()
    except LookupError:
        raise OSError(
            "no simulated Bluetooth radio in this context: the simulator must set "
            "firmware.sim.blectx.PERIPHERAL before running the firmware"
        ) from None
    if peripheral.closed:
        raise OSError("the simulated Bluetooth radio is closed")
    if peripheral.stack is None:
        peripheral.stack = RadioState(peripheral)
    return peripheral.stack


def ensure_active() -> None:
    radio()


def config(*args: Any, **kwargs: Any) -> Any:
    import bluetooth

    return bluetooth.BLE().config(*args, **kwargs)


def stop() -> None:
    """aioble.stop(): nothing to release in the simulator beyond what close() does."""
