"""A bleak back end on Bumble: ``BleakScanner(backend=BumbleScanner)``, ``BleakClient(...,
backend=BumbleClient)``.

Both share the process's Bumble central (``central.shared_central``), on Bumble's virtual radio
or on a dongle opened by a Bumble transport (``POOLDESK_BLE``, see ``radio.py``). Errors look
like the OS back ends' errors: ``BleakDeviceNotFoundError`` for an address nobody advertises,
``TimeoutError`` for a connect or an operation that takes too long, ``BleakError`` ("... not
connected" / "... disconnected") when the peer goes away, ``BleakGATTProtocolError`` for an ATT
error response. The disconnected callback fires whenever an established connection ends,
also when the app ended it, as BlueZ's does. An ATT request that times out ends the link.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from bleak.args import SizedBuffer
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bumble import att
from bumble import core as bumble_core
from bumble.device import Advertisement, Connection, Peer
from bumble.gatt import Characteristic as GattCharacteristic
from bumble.gatt_client import CharacteristicProxy
from bumble.hci import Address

from pooldesk.ble.adparse import parse_ad_structures
from pooldesk.ble.central import BumbleCentral, shared_central
from pooldesk.ble.gatt_collection import build_service_collection

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_MTU_REQUEST = 517  # what BlueZ and Android ask for
DEFAULT_OPERATION_TIMEOUT = 10.0  # seconds, for one read/write/subscribe
ATT_DEFAULT_MTU = 23
MAX_ATTRIBUTE_LENGTH = 512


def address_text(address: Address) -> str:
    return address.to_string(False)


# =============================================================================================
class BumbleScanner(BaseBleakScanner):
    """Scanner on the shared Bumble central (it always scans actively)."""

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._central: BumbleCentral | None = None
        self._unregister: Callable[[], None] | None = None

    async def start(self) -> None:
        if self._central is not None:
            raise BleakError("Scanner already started")
        self.seen_devices = {}
        central = await shared_central()
        self._unregister = central.add_listener(self._on_advertisement)
        self._central = central
        try:
            await central.start_scanning()
        except BaseException:
            self._unregister()
            self._central = self._unregister = None
            raise

    async def stop(self) -> None:
        central, self._central = self._central, None
        if self._unregister is not None:
            self._unregister()
            self._unregister = None
        if central is not None and not central.closed:
            await central.stop_scanning()

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        parsed = parse_ad_structures(advertisement.data.ad_structures)
        if not self.is_allowed_uuid(parsed.service_uuids):
            return
        key = address_text(advertisement.address)
        previous = self.seen_devices.get(key)
        # Keep a name heard earlier if this packet lacks one (the OS stacks do the same).
        name = parsed.local_name or (previous[0].name if previous else None)
        data = AdvertisementData(
            local_name=parsed.local_name or name,
            manufacturer_data=parsed.manufacturer_data,
            service_data=parsed.service_data,
            service_uuids=parsed.service_uuids,
            tx_power=parsed.tx_power,
            rssi=advertisement.rssi,
            platform_data=(advertisement,),
        )
        device = self.create_or_update_device(key, key, name, advertisement.address, data)
        self.call_detection_callbacks(device, data)


# =============================================================================================
class BumbleClient(BaseBleakClient):
    """GATT client on the shared Bumble central.

    Extra keyword arguments (pass them to ``BleakClient``): ``operation_timeout`` (seconds per
    read/write/subscribe, default 10) and ``mtu`` (the ATT MTU to ask for, default 517).
    """

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        services: set[str] | None = None,
        operation_timeout: float = DEFAULT_OPERATION_TIMEOUT,
        mtu: int = DEFAULT_MTU_REQUEST,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self._known_address: Address | None = None
        self._advertised_name: str | None = None
        if isinstance(address_or_ble_device, BLEDevice):
            if isinstance(address_or_ble_device.details, Address):
                self._known_address = address_or_ble_device.details
            self._advertised_name = address_or_ble_device.name
        self._service_filter = {s.lower() for s in services} if services else None
        self._operation_timeout = operation_timeout
        self._mtu_request = mtu
        self._connection: Connection | None = None
        self._lost: asyncio.Future[int] | None = None
        self._subscriptions: dict[int, Callable[[bytes], None]] = {}
        self._announce_disconnection = False

    # -- properties -----------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._advertised_name or self.address.replace(":", "-")

    @property
    def mtu_size(self) -> int:
        connection = self._connection
        return connection.att_mtu if connection is not None else ATT_DEFAULT_MTU

    @property
    def is_connected(self) -> bool:
        return self._connection is not None and self._lost is not None and not self._lost.done()

    # -- connection -----------------------------------------------------------------------
    async def connect(self, pair: bool, **kwargs: Any) -> None:
        if self.is_connected:
            return
        timeout = float(kwargs.get("timeout", self._timeout))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        central = await shared_central()
        address = self._known_address or central.resolve_address(self.address)

        await self._wait_until_advertising(central, address, deadline)
        try:
            connection = await central.connect(address, max(deadline - loop.time(), 0.01))
        except (TimeoutError, bumble_core.TimeoutError) as error:
            raise TimeoutError(
                f"Timed out after {timeout:g} s connecting to {self.address}"
            ) from error
        except bumble_core.BaseBumbleError as error:
            raise BleakError(f"Could not connect to {self.address}: {error}") from error

        self._connection = connection
        self._lost = loop.create_future()
        self._subscriptions = {}
        self._announce_disconnection = False  # only once connect() has succeeded
        connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)
        try:
            remaining = max(deadline - loop.time(), 0.01)
            peer = Peer(connection)
            await self._guard("MTU exchange", peer.request_mtu(self._mtu_request), remaining)
            remaining = max(deadline - loop.time(), 0.01)
            await self._guard("service discovery", peer.discover_all(), remaining)
            self.services = build_service_collection(
                peer.services, self._service_filter, lambda: self.mtu_size - 3
            )
            if pair:
                await self.pair()
        except BaseException:
            await self._drop_connection()
            raise
        self._announce_disconnection = True

    async def _wait_until_advertising(
        self, central: BumbleCentral, address: Address, deadline: float
    ) -> None:
        """Scan until the peer advertises (as BlueZ does for an address it has not seen)."""
        loop = asyncio.get_running_loop()
        heard: asyncio.Future[None] = loop.create_future()

        def on_advertisement(advertisement: Advertisement) -> None:
            if advertisement.address == address and not heard.done():
                heard.set_result(None)

        unregister = central.add_listener(on_advertisement)
        await central.start_scanning()
        try:
            await asyncio.wait_for(heard, max(deadline - loop.time(), 0.01))
        except TimeoutError:
            raise BleakDeviceNotFoundError(
                self.address,
                f"Device with address {self.address} was not found: it is not advertising "
                "(out of range, switched off, or already connected to someone else)",
            ) from None
        finally:
            unregister()
            await central.stop_scanning()

    def _on_disconnection(self, reason: int) -> None:
        self.services = None
        lost = self._lost
        if lost is not None and not lost.done():
            lost.set_result(reason)
            log.debug("%s disconnected (reason 0x%02X)", self.address, reason)
            if self._announce_disconnection and self._disconnected_callback is not None:
                self._announce_disconnection = False
                self._disconnected_callback()

    async def disconnect(self) -> None:
        await self._drop_connection()

    async def _drop_connection(self) -> None:
        connection, lost = self._connection, self._lost
        if connection is None or lost is None:
            return
        if not lost.done():
            try:
                async with asyncio.timeout(5):
                    await connection.disconnect()
                    await asyncio.shield(lost)
            except (TimeoutError, bumble_core.BaseBumbleError):
                log.debug("disconnect from %s did not complete cleanly", self.address)
                if not lost.done():
                    self._on_disconnection(0x16)  # "terminated by local host"
        self._connection = None
        self.services = None

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        connection = self._require_connection("pair")
        await self._guard("pairing", connection.pair(), self._operation_timeout)

    async def unpair(self) -> None:
        raise NotImplementedError("The Bumble back end keeps no bonds to remove")

    # -- GATT operations ------------------------------------------------------------------
    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        connection = self._require_connection(f"read {characteristic.uuid}")
        value = await self._guard(
            f"read of {characteristic.uuid}",
            connection.gatt_client.read_value(characteristic.handle),
        )
        return bytearray(value)

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        connection = self._require_connection(f"read descriptor {descriptor.uuid}")
        value = await self._guard(
            f"read of descriptor {descriptor.uuid}",
            connection.gatt_client.read_value(descriptor.handle),
        )
        return bytearray(value)

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        connection = self._require_connection(f"write {characteristic.uuid}")
        payload = bytes(data)
        self._check_write_size(payload, response)
        await self._guard(
            f"write to {characteristic.uuid}",
            connection.gatt_client.write_value(
                characteristic.handle, payload, with_response=response
            ),
        )

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        connection = self._require_connection(f"write descriptor {descriptor.uuid}")
        payload = bytes(data)
        self._check_write_size(payload, True)
        await self._guard(
            f"write to descriptor {descriptor.uuid}",
            connection.gatt_client.write_value(descriptor.handle, payload, with_response=True),
        )

    def _check_write_size(self, payload: bytes, response: bool) -> None:
        if response and len(payload) > MAX_ATTRIBUTE_LENGTH:
            raise BleakError(
                f"{len(payload)} bytes is more than a GATT attribute holds "
                f"({MAX_ATTRIBUTE_LENGTH}); split the data into several writes"
            )
        limit = self.mtu_size - 3
        if not response and len(payload) > limit:
            raise BleakError(
                f"{len(payload)} bytes does not fit in one write without response "
                f"({limit} bytes at MTU {self.mtu_size}); split it or write with response"
            )

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        connection = self._require_connection(f"subscribe to {characteristic.uuid}")
        proxy: CharacteristicProxy = characteristic.obj
        wanted = GattCharacteristic.Properties.NOTIFY | GattCharacteristic.Properties.INDICATE
        if not proxy.properties & wanted:
            raise BleakError(
                f"Characteristic {characteristic.uuid} does not support notifications "
                "or indications"
            )

        def on_value(value: bytes) -> None:
            callback(bytearray(value))

        previous = self._subscriptions.pop(characteristic.handle, None)
        client = connection.gatt_client
        if previous is not None:
            client.notification_subscribers.get(characteristic.handle, set()).discard(previous)
            client.indication_subscribers.get(characteristic.handle, set()).discard(previous)
        self._subscriptions[characteristic.handle] = on_value
        await self._guard(
            f"subscription to {characteristic.uuid}", client.subscribe(proxy, on_value)
        )

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        connection = self._require_connection(f"unsubscribe from {characteristic.uuid}")
        subscriber = self._subscriptions.pop(characteristic.handle, None)
        if subscriber is None:
            return
        await self._guard(
            f"unsubscription from {characteristic.uuid}",
            connection.gatt_client.unsubscribe(characteristic.obj, subscriber),
        )

    # -- plumbing -------------------------------------------------------------------------
    def _require_connection(self, what: str) -> Connection:
        if not self.is_connected or self._connection is None:
            raise BleakError(f"Cannot {what}: not connected to {self.address}")
        return self._connection

    async def _guard(self, what: str, awaitable: Awaitable[T], limit: float | None = None) -> T:
        """Run one GATT procedure; a disconnection or a timeout ends it with a bleak-style error.

        An ATT request cannot be withdrawn: when the caller is cancelled the request finishes in
        the background (later requests queue behind it), and when it times out the link is
        dropped, as the Core spec asks after an ATT transaction timeout (Vol 3, Part F, 3.3.3).
        """
        lost = self._lost
        if lost is None or lost.done():
            if asyncio.iscoroutine(awaitable):
                awaitable.close()
            raise BleakError(f"{what} failed: not connected to {self.address}")
        limit = self._operation_timeout if limit is None else limit
        task = asyncio.ensure_future(awaitable)
        try:
            waiting: set[asyncio.Future[Any]] = {task, lost}
            await asyncio.wait(waiting, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.add_done_callback(_retrieve)
            raise
        if task.done() and not task.cancelled():
            error = task.exception()
            if error is None:
                return task.result()
            raise _translate(error, what, self.address) from error
        if lost.done() or task.cancelled():
            task.cancel()
            await asyncio.wait({task})
            raise BleakError(f"{what} failed: {self.address} disconnected")
        task.add_done_callback(_retrieve)
        log.warning("%s on %s timed out after %g s; dropping the link", what, self.address, limit)
        await self._drop_connection()
        raise TimeoutError(f"{what} on {self.address} timed out after {limit:g} s")


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Mark an abandoned procedure's outcome as seen (it no longer has anyone waiting)."""
    if not task.cancelled():
        task.exception()


def _translate(error: BaseException, what: str, address: str) -> BaseException:
    if isinstance(error, att.ATT_Error):
        translated: BaseException = BleakGATTProtocolError(int(error.error_code))
        translated.add_note(f"{what} on {address} was refused by the device")
        return translated
    if isinstance(error, bumble_core.TimeoutError | TimeoutError):
        return TimeoutError(f"{what} on {address} timed out")
    if isinstance(error, BleakError):
        return error
    return BleakError(f"{what} on {address} failed: {error}")
