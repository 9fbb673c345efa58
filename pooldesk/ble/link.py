"""The provisioning client's ``GattLink`` over a connected bleak client.

Endpoints are characteristics named by their 0x2901 (Characteristic User Description)
descriptor, as in ESP-IDF provisioning; the names are read once after connecting. Works with
any bleak back end: the OS's for real radios, ``BumbleClient`` for the virtual radio or a dongle.

    async with open_gatt_link(ble_device_or_address) as link:
        client = ProvisioningClient(link)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from bleak import BleakClient
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.device import BLEDevice
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bleak.uuids import normalize_uuid_16

from pooldesk.ble.radio import client_backend
from pooldesk.core.failures import Code, failure
from pooldesk.provisioning.errors import LinkError
from pooldesk.provisioning.protocol import SERVICE_UUID

log = logging.getLogger(__name__)

USER_DESCRIPTION = normalize_uuid_16(0x2901)
DEFAULT_CONNECT_TIMEOUT = 15.0


class BleakGattLink:
    """``GattLink`` (``pooldesk.provisioning.link``) over a connected ``BleakClient``."""

    def __init__(self, client: BleakClient, endpoints: dict[str, BleakGATTCharacteristic]):
        self.client = client
        self.endpoints = endpoints
        self.disconnected = asyncio.Event()

    @classmethod
    async def attach(cls, client: BleakClient, service_uuid: str = SERVICE_UUID) -> BleakGattLink:
        """Name the endpoints of ``service_uuid`` on an already connected client."""
        service = client.services.get_service(service_uuid)
        if service is None:
            raise LinkError(failure(Code.LINK_NOT_PROVISIONING))
        endpoints: dict[str, BleakGATTCharacteristic] = {}
        for characteristic in service.characteristics:
            descriptor = characteristic.get_descriptor(USER_DESCRIPTION)
            if descriptor is None:
                continue
            raw = await _call(client.read_gatt_descriptor(descriptor), str(characteristic.uuid))
            name = bytes(raw).decode("utf-8", errors="replace").strip("\x00 ")
            if name:
                endpoints.setdefault(name, characteristic)
        return cls(client, endpoints)

    def mark_disconnected(self) -> None:
        self.disconnected.set()

    # -- GattLink ---------------------------------------------------------------------------
    @property
    def mtu(self) -> int:
        return self.client.mtu_size if self.client.is_connected else 23

    async def read(self, endpoint: str) -> bytes:
        characteristic = self._endpoint(endpoint)
        return bytes(await _call(self.client.read_gatt_char(characteristic), endpoint))

    async def write(self, endpoint: str, data: bytes) -> None:
        characteristic = self._endpoint(endpoint)
        if len(data) > self.mtu - 3:
            raise LinkError(
                failure(
                    Code.LINK_WRITE_TOO_BIG, size=len(data), endpoint=endpoint, limit=self.mtu - 3
                )
            )
        await _call(self.client.write_gatt_char(characteristic, data, response=True), endpoint)

    async def subscribe(self, endpoint: str, callback: Callable[[bytes], None]) -> None:
        characteristic = self._endpoint(endpoint)

        def on_notification(_: BleakGATTCharacteristic, value: bytearray) -> None:
            callback(bytes(value))

        await _call(self.client.start_notify(characteristic, on_notification), endpoint)

    def _endpoint(self, endpoint: str) -> BleakGATTCharacteristic:
        if not self.client.is_connected:
            raise LinkError(failure(Code.LINK_NOT_CONNECTED))
        characteristic = self.endpoints.get(endpoint)
        if characteristic is None:
            known = ", ".join(sorted(self.endpoints)) or "none"
            raise LinkError(failure(Code.LINK_NO_ENDPOINT, endpoint=endpoint, known=known))
        return characteristic


async def _call(awaitable: Any, endpoint: str) -> Any:
    """Await one bleak operation on `endpoint` (a name, or a characteristic's UUID); its
    failures become ``LinkError`` with a code."""
    try:
        return await awaitable
    except BleakGATTProtocolError as error:
        refused = failure(Code.LINK_GATT_REFUSED, endpoint=endpoint, detail=str(error.args[-1]))
        raise LinkError(refused) from error
    except TimeoutError as error:
        raise LinkError(failure(Code.LINK_GATT_NO_ANSWER, endpoint=endpoint)) from error
    except BleakError as error:
        raise LinkError(
            failure(Code.LINK_GATT_FAILED, endpoint=endpoint, detail=str(error))
        ) from error


@asynccontextmanager
async def open_gatt_link(
    device: BLEDevice | str,
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    service_uuid: str = SERVICE_UUID,
    on_disconnect: Callable[[], None] | None = None,
    **client_kwargs: Any,
) -> AsyncIterator[BleakGattLink]:
    """Connect to a controller (found by a scan, or by address) with the current radio's
    bleak back end; yield its ``BleakGattLink``; disconnect on exit, whatever happened."""
    link: BleakGattLink | None = None

    def disconnected(_: BleakClient) -> None:
        if link is not None:
            link.mark_disconnected()
        if on_disconnect is not None:
            on_disconnect()

    client = BleakClient(
        device,
        disconnected_callback=disconnected,
        timeout=connect_timeout,
        backend=client_backend(),
        **client_kwargs,
    )
    name = device.name if isinstance(device, BLEDevice) and device.name else str(device)
    try:
        await client.connect()
    except BleakDeviceNotFoundError as error:
        raise LinkError(failure(Code.LINK_OUT_OF_RANGE, name=name)) from error
    except TimeoutError as error:
        raise LinkError(failure(Code.LINK_CONNECT_TIMEOUT, name=name)) from error
    except BleakError as error:
        raise LinkError(failure(Code.LINK_CONNECT_FAILED, name=name, detail=str(error))) from error
    try:
        link = await BleakGattLink.attach(client, service_uuid)
        yield link
    finally:
        try:
            await client.disconnect()
        except (BleakError, TimeoutError):  # already gone
            log.debug("disconnect from %s failed", name, exc_info=True)
