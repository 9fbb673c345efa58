"""aioble's GATT server classes on a Bumble GATT server.

Behaves like aioble on an ESP32 (NimBLE) where the firmware can tell: a characteristic's value
buffer holds 20 bytes unless a local ``write()`` or ``BufferedCharacteristic(max_len=...)``
made it larger, and a longer write from a central is cut to the buffer; reads and writes the
flags do not allow are refused with the ATT errors NimBLE sends; ``notify()`` sends whether or
not the central subscribed, cut to the connection's MTU - 3.
"""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any

from bumble import att
from bumble.core import UUID as BumbleUUID
from bumble.gatt import Characteristic as BumbleCharacteristic
from bumble.gatt import Descriptor as BumbleDescriptor
from bumble.gatt import Service as BumbleService

from .core import Flag, GattError, RadioState, log, radio
from .device import DeviceConnection, DeviceTimeout

if TYPE_CHECKING:
    import bluetooth

_FLAG_READ = 0x0002
_FLAG_WRITE_NO_RESPONSE = 0x0004
_FLAG_WRITE = 0x0008
_FLAG_NOTIFY = 0x0010
_FLAG_INDICATE = 0x0020
_FLAG_WRITE_CAPTURE = 0x10000
_PROPERTY_BITS = 0x3E

# MicroPython's default size of a GATT value buffer (see gatts_set_buffer).
DEFAULT_BUFFER_SIZE = 20


class Service:
    def __init__(self, uuid: bluetooth.UUID) -> None:
        self.uuid = uuid
        self.characteristics: list[Characteristic] = []


class BaseCharacteristic:
    """State common to characteristics and descriptors: flags, the value and its buffer."""

    uuid: bluetooth.UUID
    flags: int

    def _init_value(self, initial: Any, max_len: int = DEFAULT_BUFFER_SIZE) -> None:
        self._value = b""
        self._max_len = max_len
        self._append = False
        self._radio: RadioState | None = None
        self._value_handle: int | None = None
        self._initial = initial
        self._write_event: Flag | None = None
        self._write_data: Any = None

    def _register(self, state: RadioState, value_handle: int) -> None:
        self._radio = state
        self._value_handle = value_handle
        if self._initial is not None:
            self.write(self._initial)
            self._initial = None

    def read(self) -> bytes:
        if self._value_handle is None:
            return bytes(self._initial or b"")
        return self._value

    def write(self, data: bytes | str, send_update: bool = False) -> None:
        if isinstance(data, str):
            data = data.encode()
        if self._value_handle is None:
            self._initial = bytes(data)
            return
        self._value = bytes(data)
        self._max_len = max(self._max_len, len(self._value))  # gatts_write grows the buffer
        if send_update:
            self._send_update()

    def _send_update(self) -> None:
        """Notify every central whose CCCD asks for notifications (gatts_write send_update)."""

    def on_read(self, connection: DeviceConnection | None) -> int:
        return 0

    async def written(self, timeout_ms: int | None = None) -> Any:
        if self._write_event is None:
            return None  # not a writable characteristic
        with DeviceTimeout(None, timeout_ms):
            await self._write_event.wait()
        data, self._write_data = self._write_data, None
        if self.flags & _FLAG_WRITE_CAPTURE and self._radio is not None:
            self._radio.capture.consumed()
        return data

    # -- the central's side ---------------------------------------------------------------
    def _connection(self, bumble_connection: Any) -> DeviceConnection | None:
        return self._radio.connection_for(bumble_connection) if self._radio else None

    def _remote_read(self, bumble_connection: Any) -> bytes:
        if not self.flags & _FLAG_READ:
            raise att.ATT_Error(att.ErrorCode.READ_NOT_PERMITTED)
        status = self.on_read(self._connection(bumble_connection))
        if status:
            raise att.ATT_Error(status)
        return self._value

    def _remote_write(self, bumble_connection: Any, value: bytes) -> None:
        if not self.flags & (_FLAG_WRITE | _FLAG_WRITE_NO_RESPONSE):
            raise att.ATT_Error(att.ErrorCode.WRITE_NOT_PERMITTED)
        incoming = bytes(value)
        if self._append:
            incoming = self._value + incoming
        if len(incoming) > self._max_len:
            log.warning(
                "a %d-byte write to %r was cut to its %d-byte buffer (as on the ESP32); "
                "use aioble.BufferedCharacteristic(max_len=...) for longer writes",
                len(incoming),
                self.uuid,
                self._max_len,
            )
            incoming = incoming[: self._max_len]
        self._value = incoming
        connection = self._connection(bumble_connection)
        if self._write_event is None:
            return
        if self.flags & _FLAG_WRITE_CAPTURE and self._radio is not None:
            self._radio.capture.push(connection, self._value, self)
        else:
            self._write_data = connection
            self._write_event.set()

    def _attribute_value(self) -> att.AttributeValue:
        return att.AttributeValue(read=self._remote_read, write=self._remote_write)


class Characteristic(BaseCharacteristic):
    def __init__(
        self,
        service: Service,
        uuid: bluetooth.UUID,
        read: bool = False,
        write: bool = False,
        write_no_response: bool = False,
        notify: bool = False,
        indicate: bool = False,
        initial: Any = None,
        capture: bool = False,
    ) -> None:
        service.characteristics.append(self)
        self.descriptors: list[Descriptor] = []
        self.uuid = uuid
        flags = 0
        if read:
            flags |= _FLAG_READ
        if write or write_no_response:
            flags |= (_FLAG_WRITE if write else 0) | (
                _FLAG_WRITE_NO_RESPONSE if write_no_response else 0
            )
            if capture:
                flags |= _FLAG_WRITE_CAPTURE
        if notify:
            flags |= _FLAG_NOTIFY
        if indicate:
            flags |= _FLAG_INDICATE
        self.flags = flags
        self._init_value(initial)
        if write or write_no_response:
            self._write_event = Flag()
        self._bumble: BumbleCharacteristic | None = None

    def _to_bumble(self) -> BumbleCharacteristic:
        descriptors = [descriptor._to_bumble() for descriptor in self.descriptors]
        self._bumble = BumbleCharacteristic(
            BumbleUUID.from_bytes(bytes(self.uuid)),
            BumbleCharacteristic.Properties(self.flags & _PROPERTY_BITS),
            BumbleCharacteristic.READABLE | BumbleCharacteristic.WRITEABLE,
            self._attribute_value(),
            descriptors=descriptors,
        )
        return self._bumble

    def notify(self, connection: DeviceConnection, data: bytes | None = None) -> None:
        if not self.flags & _FLAG_NOTIFY:
            raise ValueError("Not supported")
        if not connection.is_connected():
            raise OSError(errno.ENOTCONN, "not connected")
        payload = self._value if data is None else bytes(data)
        _send_notification(connection, self._value_handle, payload)

    def _send_update(self) -> None:
        if self._radio is None or self._value_handle is None:
            return
        subscribers = self._radio.peripheral.device.gatt_server.subscribers
        for connection in list(self._radio.connections.values()):
            cccd = subscribers.get(connection._bumble, {}).get(self._value_handle)
            if cccd and cccd[0] & 0x01:
                _send_notification(connection, self._value_handle, self._value)

    async def indicate(
        self, connection: DeviceConnection, data: bytes | None = None, timeout_ms: int = 1000
    ) -> None:
        if not self.flags & _FLAG_INDICATE:
            raise ValueError("Not supported")
        if not connection.is_connected():
            raise ValueError("Not connected")
        assert self._radio is not None and self._bumble is not None
        server = self._radio.peripheral.device.gatt_server
        payload = self._value if data is None else bytes(data)
        with connection.timeout(timeout_ms):
            try:
                await server.indicate_subscriber(
                    connection._bumble, self._bumble, payload, force=True
                )
            except att.ATT_Error as error:
                raise GattError(int(error.error_code)) from error


class BufferedCharacteristic(Characteristic):
    """A characteristic whose value buffer holds ``max_len`` bytes (``append``: writes add up)."""

    def __init__(self, *args: Any, max_len: int = 20, append: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._max_len = max_len
        self._append = append


class Descriptor(BaseCharacteristic):
    def __init__(
        self,
        characteristic: Characteristic,
        uuid: bluetooth.UUID,
        read: bool = False,
        write: bool = False,
        initial: Any = None,
    ) -> None:
        characteristic.descriptors.append(self)
        self.uuid = uuid
        flags = 0
        if read:
            flags |= _FLAG_READ
        if write:
            flags |= _FLAG_WRITE
        self.flags = flags
        self._init_value(initial)
        if write:
            self._write_event = Flag()

    def _to_bumble(self) -> BumbleDescriptor:
        self._bumble = BumbleDescriptor(
            BumbleUUID.from_bytes(bytes(self.uuid)),
            BumbleDescriptor.READABLE | BumbleDescriptor.WRITEABLE,
            self._attribute_value(),
        )
        return self._bumble


def register_services(*services: Service) -> None:
    """Publish the services (replacing any registered before), then set initial values."""
    state = radio()
    server = state.peripheral.device.gatt_server
    del server.attributes[state.base_attribute_count :]
    del server.services[state.base_service_count :]
    server.attributes_by_handle = {a.handle: a for a in server.attributes}
    for service in services:
        bumble_characteristics = [c._to_bumble() for c in service.characteristics]
        server.add_service(
            BumbleService(BumbleUUID.from_bytes(bytes(service.uuid)), bumble_characteristics)
        )
        for characteristic, bumble_characteristic in zip(
            service.characteristics, bumble_characteristics, strict=True
        ):
            characteristic._register(state, bumble_characteristic.handle)
            for descriptor in characteristic.descriptors:
                descriptor._register(state, descriptor._bumble.handle)


def _send_notification(connection: DeviceConnection, handle: int | None, payload: bytes) -> None:
    limit = connection.mtu - 3
    if len(payload) > limit:
        log.warning("a %d-byte notification was cut to MTU - 3 = %d bytes", len(payload), limit)
        payload = payload[:limit]
    pdu = att.ATT_Handle_Value_Notification(attribute_handle=handle, attribute_value=payload)
    connection._bumble.send_l2cap_pdu(att.ATT_CID, bytes(pdu))


__all__ = [
    "BaseCharacteristic",
    "BufferedCharacteristic",
    "Characteristic",
    "Descriptor",
    "Service",
    "register_services",
]
