"""Host stand-in for MicroPython's ``bluetooth`` module (peripheral role), on Bumble.

``BLE()`` is the radio of the simulated controller whose firmware task is running
(``pooldesk_firmware.sim.blectx.PERIPHERAL``), one object per radio. It behaves as the ESP32 port
(NimBLE) is documented to, where firmware can tell:

- inactive after boot; ``active(True)`` resets the GAP name to "MPY ESP32" and the preferred
  MTU to 256; ``active(False)`` stops advertising and drops every central *without* an IRQ;
  the other calls raise ``OSError(ENODEV)`` while inactive;
- ``irq(handler)``: ``handler(event, data)`` runs later, as a scheduled callback, never inside
  the call that caused it; ``addr`` in the data is a memoryview of a buffer the next event
  reuses. Events: central connect (1), disconnect (2), GATTS write (3), indicate done (20),
  MTU exchanged (21);
- ``gatts_register_services`` only while not advertising and without connections (EBUSY);
  characteristic flags are GATT properties, descriptor flags ATT permissions (read 1, write 2);
  every value buffer holds 20 bytes until ``gatts_set_buffer``/``gatts_write`` makes it larger,
  and a longer write from a central is cut to it; reads and writes the flags do not allow get
  the ATT errors NimBLE sends;
- ``gatts_notify`` sends whether or not the central subscribed, cut to MTU - 3, and raises
  ``OSError(ENOMEM)`` when the stack's buffers hold more than ``TX_POOL_BYTES`` not yet sent;
- ``gap_advertise``: legacy payloads of at most 31 bytes (EINVAL), ``None`` keeps the previous
  payload; a connecting central stops advertising.
"""

from __future__ import annotations

import asyncio
import contextvars
import errno
import logging
import uuid as _uuid
from collections.abc import Awaitable, Callable
from typing import Any

from bumble import att
from bumble.core import UUID as BumbleUUID
from bumble.gatt import Characteristic as BumbleCharacteristic
from bumble.gatt import Descriptor as BumbleDescriptor
from bumble.gatt import Service as BumbleService

from pooldesk_firmware.sim.blectx import PERIPHERAL, SimPeripheral

log = logging.getLogger("bluetooth")

FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
FLAG_INDICATE = 0x0020

ADDR_PUBLIC = 0
ADDR_RANDOM = 1

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_GATTS_INDICATE_DONE = 20
_IRQ_MTU_EXCHANGED = 21

_DESC_READ = 0x0001
_DESC_WRITE = 0x0002
_PROPERTY_BITS = 0x7F
_GAP_DEVICE_NAME = BumbleUUID.from_16_bits(0x2A00)

DEFAULT_GAP_NAME = "MPY ESP32"
DEFAULT_MTU = 256  # ESP-IDF NimBLE's preferred ATT MTU
DEFAULT_BUFFER_SIZE = 20  # MicroPython's size of a GATT value buffer
MAX_ADV_PAYLOAD = 31
# Outgoing data the stack holds before gatts_notify fails (NimBLE's default pool on ESP-IDF is
# twelve 256-byte buffers); it drains as the controller sends.
TX_POOL_BYTES = 12 * 256


class UUID:
    """A 16-bit (``UUID(0x2901)``, ``UUID("2901")``) or 128-bit (``UUID("6e40...-...")``) UUID."""

    _bytes: bytes

    def __init__(self, value: int | str | bytes | UUID) -> None:
        if isinstance(value, UUID):
            self._bytes = value._bytes
        elif isinstance(value, int):
            if not 0 <= value <= 0xFFFF:
                raise ValueError("invalid UUID")
            self._bytes = value.to_bytes(2, "little")
        elif isinstance(value, bytes | bytearray | memoryview):
            if len(value) not in (2, 4, 16):
                raise ValueError("invalid UUID")
            self._bytes = bytes(value)
        elif isinstance(value, str):
            text = value.strip()
            if len(text) in (4, 6) and not text.count("-"):
                self._bytes = int(text, 16).to_bytes(2, "little")
            else:
                try:
                    self._bytes = bytes(reversed(_uuid.UUID(text).bytes))
                except ValueError:
                    raise ValueError("invalid UUID") from None
        else:
            raise TypeError("UUID must be an int, str or bytes")

    def __bytes__(self) -> bytes:
        return self._bytes

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UUID) and other._bytes == self._bytes

    def __hash__(self) -> int:
        return hash(self._bytes)

    def __repr__(self) -> str:
        if len(self._bytes) == 16:
            return f"UUID('{_uuid.UUID(bytes=bytes(reversed(self._bytes)))}')"
        return f"UUID(0x{int.from_bytes(self._bytes, 'little'):04x})"


class _Value:
    """One GATT value: its bytes, buffer size, append mode and the access its flags allow."""

    def __init__(self, readable: bool, writable: bool) -> None:
        self.data = b""
        self.size = DEFAULT_BUFFER_SIZE
        self.append = False
        self.readable = readable
        self.writable = writable
        self.bumble: Any = None


class BLE:
    """The radio of the simulated controller whose firmware task is running (a singleton per
    radio, as ``bluetooth.BLE()`` is on the board)."""

    def __new__(cls) -> BLE:
        peripheral = _current_peripheral()
        if not isinstance(peripheral.stack, BLE):
            ble = super().__new__(cls)
            ble._setup(peripheral)
            peripheral.stack = ble
        return peripheral.stack

    def _setup(self, peripheral: SimPeripheral) -> None:
        self._peripheral = peripheral
        self._active = False
        self._handler: Callable[[int, tuple], Any] | None = None
        self._context: contextvars.Context | None = None
        self._values: dict[int, _Value] = {}
        self._connections: dict[int, Any] = {}
        self._advertising = False
        self._adv_data = b""
        self._resp_data = b""
        self._addr = bytearray(6)
        self._last_op: asyncio.Task[None] | None = None
        server = peripheral.device.gatt_server
        # Attributes present before any registration (GAP and GATT services).
        self._base_attributes = len(server.attributes)
        self._base_services = len(server.services)
        peripheral.device.on("connection", self._on_connection)
        peripheral.on_close(self._settle)

    # -- power -----------------------------------------------------------------------------
    def active(self, state: bool | None = None) -> bool:
        if state is not None:
            if state and not self._active:
                self._active = True
                self._set_name(DEFAULT_GAP_NAME)
                self._peripheral.preferred_mtu = DEFAULT_MTU
                self._clear_services()
            elif not state and self._active:
                self._active = False  # from now on no IRQ reaches the firmware
                self._advertising = False
                self._connections.clear()
                self._clear_services()
                self._later(self._power_down)
        return self._active

    async def _power_down(self) -> None:
        await self._peripheral.stop_advertising()
        for connection in list(self._peripheral.device.connections.values()):
            try:
                await connection.disconnect()
            except Exception:  # it left meanwhile
                log.debug("disconnect on active(False) failed", exc_info=True)

    def config(self, *names: str, **values: Any) -> Any:
        if names and values:
            raise TypeError("either query one value or set values")
        if values:
            for key, value in values.items():
                self._set_config(key, value)
            return None
        if len(names) != 1:
            raise TypeError("must query one param")
        name = names[0]
        if name == "gap_name":
            return self._peripheral.device.name.encode()
        self._check_active()
        if name == "mac":
            return (ADDR_RANDOM, bytes.fromhex(self._peripheral.address.replace(":", "")))
        if name == "mtu":
            return self._peripheral.preferred_mtu
        if name == "rxbuf":
            return 128
        raise ValueError("unknown config param")

    def _set_config(self, key: str, value: Any) -> None:
        if key == "gap_name":
            name = value.decode() if isinstance(value, bytes | bytearray) else str(value)
            if len(name.encode()) > 31:  # NimBLE's BLE_SVC_GAP_DEVICE_NAME_MAX_LENGTH
                raise OSError(errno.EINVAL, "gap_name too long")
            self._set_name(name)
        elif key == "mtu":
            self._check_active()
            if not 23 <= int(value) <= 527:
                raise OSError(errno.EINVAL, "mtu out of range")
            self._peripheral.preferred_mtu = int(value)
        elif key in ("addr_mode", "io", "bond", "le_secure", "mitm", "rxbuf"):
            pass  # accepted; the simulator does not model these
        else:
            raise ValueError("unknown config param")

    def _set_name(self, name: str) -> None:
        device = self._peripheral.device
        device.name = name
        for attribute in device.gatt_server.attributes:
            if getattr(attribute, "type", None) == _GAP_DEVICE_NAME:
                attribute.value = name.encode()

    def irq(self, handler: Callable[[int, tuple], Any]) -> None:
        self._handler = handler
        # IRQs run in the firmware's context (its simulated clock), not in Bumble's.
        self._context = contextvars.copy_context()

    # -- GATT server -----------------------------------------------------------------------
    def gatts_register_services(self, services: Any) -> tuple:
        self._check_active()
        if self._advertising or self._connections:
            raise OSError(errno.EBUSY, "stop advertising and disconnect before registering")
        self._clear_services()
        server = self._peripheral.device.gatt_server
        result = []
        for service_uuid, characteristics in services:
            handles_of_service: list[_Value] = []
            bumble_characteristics = []
            for definition in characteristics:
                char_uuid, flags = definition[0], definition[1]
                descriptors = definition[2] if len(definition) > 2 else ()
                value = _Value(bool(flags & FLAG_READ), bool(flags & (FLAG_WRITE | 0x0004)))
                handles_of_service.append(value)
                bumble_descriptors = []
                for desc_uuid, desc_flags in descriptors:
                    desc = _Value(bool(desc_flags & _DESC_READ), bool(desc_flags & _DESC_WRITE))
                    desc.bumble = BumbleDescriptor(
                        _bumble_uuid(desc_uuid),
                        BumbleDescriptor.READABLE | BumbleDescriptor.WRITEABLE,
                        self._attribute_value(desc),
                    )
                    bumble_descriptors.append(desc.bumble)
                    handles_of_service.append(desc)
                value.bumble = BumbleCharacteristic(
                    _bumble_uuid(char_uuid),
                    BumbleCharacteristic.Properties(flags & _PROPERTY_BITS),
                    BumbleCharacteristic.READABLE | BumbleCharacteristic.WRITEABLE,
                    self._attribute_value(value),
                    descriptors=bumble_descriptors,
                )
                bumble_characteristics.append(value.bumble)
            server.add_service(BumbleService(_bumble_uuid(service_uuid), bumble_characteristics))
            handles = []
            for value in handles_of_service:
                self._values[value.bumble.handle] = value
                handles.append(value.bumble.handle)
            result.append(tuple(handles))
        return tuple(result)

    def _clear_services(self) -> None:
        server = self._peripheral.device.gatt_server
        del server.attributes[self._base_attributes :]
        del server.services[self._base_services :]
        server.attributes_by_handle = {a.handle: a for a in server.attributes}
        self._values.clear()

    def gatts_read(self, value_handle: int) -> bytes:
        value = self._value(value_handle)
        data = value.data
        if value.append:
            value.data = b""
        return data

    def gatts_write(self, value_handle: int, data: bytes, send_update: bool = False) -> None:
        value = self._value(value_handle)
        value.data = bytes(data)
        value.size = max(value.size, len(value.data))  # the board grows the buffer
        if send_update:
            server = self._peripheral.device.gatt_server
            for handle, connection in list(self._connections.items()):
                cccd = server.subscribers.get(connection, {}).get(value_handle)
                if cccd and cccd[0] & 0x01:
                    self._send_notification(handle, value_handle, value.data)

    def gatts_set_buffer(self, value_handle: int, length: int, append: bool = False) -> None:
        value = self._value(value_handle)
        value.size = int(length)
        value.append = bool(append)
        value.data = b""

    def gatts_notify(self, conn_handle: int, value_handle: int, data: bytes | None = None) -> None:
        value = self._value(value_handle)
        payload = value.data if data is None else bytes(data)
        self._send_notification(conn_handle, value_handle, payload)

    def gatts_indicate(
        self, conn_handle: int, value_handle: int, data: bytes | None = None
    ) -> None:
        value = self._value(value_handle)
        connection = self._connection(conn_handle)
        payload = value.data if data is None else bytes(data)
        server = self._peripheral.device.gatt_server

        async def indicate() -> None:
            status = 0
            try:
                await server.indicate_subscriber(connection, value.bumble, payload, force=True)
            except att.ATT_Error as error:
                status = int(error.error_code)
            except Exception:  # noqa: BLE001 - any failure of the indication is a timeout to the firmware, as on the board
                status = errno.ETIMEDOUT
            self._schedule(_IRQ_GATTS_INDICATE_DONE, (conn_handle, value_handle, status))

        self._later(indicate)

    def _send_notification(self, conn_handle: int, value_handle: int, payload: bytes) -> None:
        connection = self._connection(conn_handle)
        queue = connection.data_packet_queue
        if queue is not None and queue.pending * queue.max_packet_size + len(payload) > (
            TX_POOL_BYTES
        ):
            raise OSError(errno.ENOMEM, "no buffer for the notification")
        payload = payload[: connection.att_mtu - 3]
        pdu = att.ATT_Handle_Value_Notification(
            attribute_handle=value_handle, attribute_value=payload
        )
        connection.send_l2cap_pdu(att.ATT_CID, bytes(pdu))

    # -- GAP -------------------------------------------------------------------------------
    def gap_advertise(
        self,
        interval_us: int | None,
        adv_data: bytes | None = None,
        *,
        resp_data: bytes | None = None,
        connectable: bool = True,
    ) -> None:
        self._check_active()
        if interval_us is None:
            self._advertising = False
            self._later(self._peripheral.stop_advertising)
            return
        if adv_data is not None:
            if len(adv_data) > MAX_ADV_PAYLOAD:
                raise OSError(errno.EINVAL, "advertising data longer than 31 bytes")
            self._adv_data = bytes(adv_data)
        if resp_data is not None:
            if len(resp_data) > MAX_ADV_PAYLOAD:
                raise OSError(errno.EINVAL, "scan response longer than 31 bytes")
            self._resp_data = bytes(resp_data)
        adv, resp = self._adv_data, self._resp_data
        self._advertising = True
        interval_ms = int(interval_us) / 1000

        async def start() -> None:
            await self._peripheral.start_advertising(adv, resp, interval_ms, connectable)

        self._later(start)

    def gap_disconnect(self, conn_handle: int) -> bool:
        self._check_active()
        connection = self._connections.get(conn_handle)
        if connection is None:
            return False

        async def disconnect() -> None:
            await connection.disconnect()

        self._later(disconnect)
        return True

    # -- the centrals' side ----------------------------------------------------------------
    def _on_connection(self, connection: Any) -> None:
        if not self._active:  # raced with active(False): the board would not have accepted it
            self._peripheral.loop.create_task(_quiet(connection.disconnect()))
            return
        self._advertising = False  # the controller stops advertising on a connection
        handle = connection.handle
        self._connections[handle] = connection
        peer = connection.peer_address
        addr = bytes(reversed(bytes(peer)))
        addr_type = ADDR_PUBLIC if peer.is_public else ADDR_RANDOM

        def on_disconnection(reason: int) -> None:
            if self._connections.get(handle) is connection:
                del self._connections[handle]
                self._schedule(_IRQ_CENTRAL_DISCONNECT, (handle, addr_type, addr))

        def on_mtu() -> None:
            mtu = connection.att_mtu
            if self._connections.get(handle) is connection:
                self._schedule(_IRQ_MTU_EXCHANGED, (handle, mtu))

        connection.on("disconnection", on_disconnection)
        connection.on("connection_att_mtu_update", on_mtu)
        self._schedule(_IRQ_CENTRAL_CONNECT, (handle, addr_type, addr))

    def _attribute_value(self, value: _Value) -> att.AttributeValue:
        def read(connection: Any) -> bytes:
            if not value.readable:
                raise att.ATT_Error(att.ErrorCode.READ_NOT_PERMITTED)
            return value.data

        def write(connection: Any, incoming: bytes) -> None:
            if not value.writable:
                raise att.ATT_Error(att.ErrorCode.WRITE_NOT_PERMITTED)
            offset = len(value.data) if value.append else 0
            data = (value.data[:offset] + bytes(incoming))[: value.size]
            if len(data) < offset + len(incoming):
                log.warning(
                    "a %d-byte write was cut to its %d-byte buffer (as on the ESP32); "
                    "gatts_set_buffer() makes it larger",
                    len(incoming),
                    value.size,
                )
            value.data = data
            handle = connection.handle
            if self._connections.get(handle) is connection:
                self._schedule(_IRQ_GATTS_WRITE, (handle, value.bumble.handle))

        return att.AttributeValue(read=read, write=write)

    # -- plumbing --------------------------------------------------------------------------
    def _schedule(self, event: int, data: tuple) -> None:
        """Deliver an IRQ as the board does: later, as a scheduled callback."""
        self._peripheral.loop.call_soon(self._dispatch, event, data)

    def _dispatch(self, event: int, data: tuple) -> None:
        handler = self._handler
        if handler is None or not self._active or self._peripheral.closed:
            return
        if len(data) == 3 and event in (_IRQ_CENTRAL_CONNECT, _IRQ_CENTRAL_DISCONNECT):
            self._addr[:] = data[2]
            data = (data[0], data[1], memoryview(self._addr))
        try:
            if self._context is not None:
                self._context.run(handler, event, data)
            else:
                handler(event, data)
        except Exception:
            log.exception("Unhandled exception in IRQ callback handler")

    def _later(self, operation: Callable[[], Awaitable[None]]) -> None:
        """Run a radio operation after the ones before it (the board does them in the call)."""
        previous = self._last_op

        async def step() -> None:
            if previous is not None:
                await asyncio.wait({previous})
            if self._peripheral.closed:
                return
            try:
                await operation()
            except Exception:
                log.debug("radio operation failed", exc_info=True)

        self._last_op = self._peripheral.loop.create_task(step())

    async def _settle(self) -> None:
        """On power-off: let the radio operations already asked for finish first."""
        if self._last_op is not None:
            await asyncio.wait({self._last_op}, timeout=3)

    def _check_active(self) -> None:
        if not self._active:
            raise OSError(errno.ENODEV, "Bluetooth is not active")

    def _value(self, value_handle: int) -> _Value:
        self._check_active()
        value = self._values.get(value_handle)
        if value is None:
            raise OSError(errno.EINVAL, "no such value handle")
        return value

    def _connection(self, conn_handle: int) -> Any:
        self._check_active()
        connection = self._connections.get(conn_handle)
        if connection is None:
            raise OSError(errno.ENOTCONN, "not connected")
        return connection


async def _quiet(operation: Awaitable[Any]) -> None:
    try:
        await operation
    except Exception:
        log.debug("radio operation failed", exc_info=True)


def _bumble_uuid(value: UUID) -> BumbleUUID:
    return BumbleUUID.from_bytes(bytes(value))


def _current_peripheral() -> SimPeripheral:
    try:
        peripheral = PERIPHERAL.get()
    except LookupError:
        raise OSError(
            "no simulated Bluetooth radio in this context: the simulator must set "
            "pooldesk_firmware.sim.blectx.PERIPHERAL before running the firmware"
        ) from None
    if peripheral.closed:
        raise OSError(errno.ENODEV, "the simulated Bluetooth radio is off")
    return peripheral
