"""The Bumble radio behind one simulated controller's ``bluetooth`` stand-in.

The simulator opens one :class:`SimPeripheral` per simulated controller and sets
:data:`PERIPHERAL` before starting that controller's firmware task (asyncio tasks inherit the
context), so the stand-ins find "their" radio without any module-level state::

    link = LocalLink()   # the caller's (the app's is pooldesk.ble.radio.get_virtual_link());
                         # or a transport name: "usb:0"
    peripheral = await open_peripheral(link, "C0:DE:00:A1:B2:C3", "ESP-A1B2C3")
    PERIPHERAL.set(peripheral)                            # then start the firmware task
    ...
    await peripheral.close()                              # before the event loop closes

Several peripherals (and the app's central) may share one virtual ``LocalLink``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any, TypeVar

from bumble.controller import Controller
from bumble.device import (
    AdvertisingEventProperties,
    AdvertisingParameters,
    AdvertisingSet,
    AdvertisingType,
    Device,
)
from bumble.hci import Address, HCI_ErrorCode, OwnAddressType
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink, Transport

log = logging.getLogger(__name__)

T = TypeVar("T")

_POWER_OFF = HCI_ErrorCode.REMOTE_DEVICE_TERMINATED_CONNECTION_DUE_TO_POWER_OFF_ERROR

# On the virtual radio nothing is gained by advertising slowly, and every scan waits for the
# next advertisement: 20 ms keeps a scan around 0.05 s (1 s would cost ~2 s per scan).
VIRTUAL_MAX_ADVERTISING_INTERVAL_MS = 20.0

# ATT MTU the simulated controller accepts in an MTU exchange (ESP-IDF NimBLE's default
# preferred MTU); the firmware may change it with ``bluetooth.BLE().config(mtu=...)``.
DEFAULT_PREFERRED_MTU = 256


class SimPeripheral:
    """A powered-on Bumble ``Device`` acting as one simulated controller's Bluetooth radio."""

    def __init__(
        self,
        device: Device,
        address: str,
        *,
        link: LocalLink | None = None,
        controller: Controller | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.device = device
        self.address = address
        self.link = link
        self._controller = controller
        self._transport = transport
        self._advertising_set: AdvertisingSet | None = None
        self._close_hooks: list[Callable[[], Awaitable[None] | None]] = []
        # Starting and stopping advertising take several HCI commands: one at a time, and
        # none after close() (a firmware task that outlives its power cut gets OSError).
        self._advertising_lock = asyncio.Lock()
        self.closed = False
        self.loop = asyncio.get_running_loop()
        self.device.gatt_server.max_mtu = DEFAULT_PREFERRED_MTU
        # The ``bluetooth`` stand-in keeps its per-radio ``BLE`` object here (registered
        # services, value buffers, connections).
        self.stack: Any = None

    @property
    def is_virtual(self) -> bool:
        return self.link is not None

    @property
    def preferred_mtu(self) -> int:
        return self.device.gatt_server.max_mtu

    @preferred_mtu.setter
    def preferred_mtu(self, mtu: int) -> None:
        self.device.gatt_server.max_mtu = mtu

    def on_close(self, hook: Callable[[], Awaitable[None] | None]) -> None:
        """Run ``hook`` when the peripheral closes (the ``bluetooth`` stand-in's clean-up)."""
        self._close_hooks.append(hook)

    # -- advertising ----------------------------------------------------------------------
    async def start_advertising(
        self, adv_data: bytes, resp_data: bytes, interval_ms: float, connectable: bool
    ) -> None:
        """Advertise; a connecting central ends it (as on the ESP32).

        Real radios carry ``resp_data`` in scan responses. Bumble's virtual controller never
        delivers scan-response data, so on the virtual radio both parts go into one extended
        advertisement instead: a scanning central sees the same merged fields either way.
        """
        async with self._advertising_lock:
            if self.closed:
                raise OSError("the simulated Bluetooth radio is off")
            await self._stop_advertising()
            await self._start_advertising(adv_data, resp_data, interval_ms, connectable)

    async def _start_advertising(
        self, adv_data: bytes, resp_data: bytes, interval_ms: float, connectable: bool
    ) -> None:
        if self.is_virtual:
            interval = min(interval_ms, VIRTUAL_MAX_ADVERTISING_INTERVAL_MS)
            self._advertising_set = await self.device.create_advertising_set(
                advertising_parameters=AdvertisingParameters(
                    advertising_event_properties=AdvertisingEventProperties(
                        is_connectable=connectable, is_scannable=False, is_legacy=False
                    ),
                    primary_advertising_interval_min=interval,
                    primary_advertising_interval_max=interval,
                    own_address_type=OwnAddressType.RANDOM,
                ),
                random_address=self.device.random_address,
                advertising_data=adv_data + resp_data,
                auto_start=True,
            )
        else:
            await self.device.start_advertising(
                advertising_type=(
                    AdvertisingType.UNDIRECTED_CONNECTABLE_SCANNABLE
                    if connectable
                    else AdvertisingType.UNDIRECTED_SCANNABLE
                ),
                advertising_data=adv_data,
                scan_response_data=resp_data,
                advertising_interval_min=interval_ms,
                advertising_interval_max=interval_ms,
            )

    async def stop_advertising(self) -> None:
        async with self._advertising_lock:
            await self._stop_advertising()

    async def _stop_advertising(self) -> None:
        advertising_set, self._advertising_set = self._advertising_set, None
        if advertising_set is not None:
            try:
                if advertising_set.enabled:
                    await advertising_set.stop()
                await advertising_set.remove()
            except Exception:  # already ended by a connection
                log.debug("removing an advertising set failed", exc_info=True)
        elif self.device.is_advertising:
            await self.device.stop_advertising()

    # -- shutdown -------------------------------------------------------------------------
    async def close(self) -> None:
        """Stop advertising, drop connections and leave the radio. Call before the loop ends:
        an advertising timer left behind would fire into a closed loop."""
        if self.closed:
            return
        self.closed = True
        try:
            for hook in self._close_hooks:
                result = hook()
                if result is not None:
                    await result
            try:
                async with asyncio.timeout(3):
                    await self.stop_advertising()
            except TimeoutError:
                log.warning("the simulated radio did not stop advertising in 3 s; powering off")
            # The central learns at once that the controller lost power.
            for connection in list(self.device.connections.values()):
                try:
                    async with asyncio.timeout(2):
                        await connection.disconnect(_POWER_OFF)
                except Exception:
                    log.debug("disconnect on close failed", exc_info=True)
            try:
                async with asyncio.timeout(3):
                    await self.device.power_off()
            except TimeoutError:
                log.warning("the simulated radio did not power off in 3 s; leaving the link")
        finally:
            if self.link is not None and self._controller in self.link.controllers:
                self.link.remove_controller(self._controller)
            if self._transport is not None:
                await self._transport.close()


PERIPHERAL: ContextVar[SimPeripheral] = ContextVar("PERIPHERAL")


async def cancel_safe(coroutine: Coroutine[Any, Any, T]) -> T:
    """Await a Bumble coroutine so that cancelling the caller always cancels the caller.

    Bumble waits for HCI responses with ``asyncio.wait_for``, which on Python 3.11 swallows a
    cancellation arriving in the same loop turn as the response (the cancelled firmware task
    would carry on). The call runs in its own task instead; on cancellation it is allowed to
    finish (an HCI command abandoned halfway would get the next command's response), then the
    cancellation goes on.
    """
    task = asyncio.ensure_future(coroutine)
    try:
        await asyncio.wait({task})
    except asyncio.CancelledError:
        await asyncio.wait({task})
        if not task.cancelled():
            task.exception()
        raise
    return task.result()


async def open_peripheral(
    link_or_transport: LocalLink | str, address: str, name: str
) -> SimPeripheral:
    """Power on a Bumble peripheral with random static ``address`` ("C0:DE:..") and GAP name
    ``name``: on a virtual ``LocalLink``, or on a controller opened from a Bumble transport
    name ("usb:0", "serial:/dev/ttyUSB0", "tcp-client:127.0.0.1:1234")."""
    bumble_address = Address(address, Address.RANDOM_DEVICE_ADDRESS)
    if isinstance(link_or_transport, LocalLink):
        controller = Controller(f"sim-{address}", link=link_or_transport)
        host = Host(controller, AsyncPipeSink(controller))
        device = Device(name=name, address=bumble_address, host=host)
        peripheral = SimPeripheral(device, address, link=link_or_transport, controller=controller)
    else:
        transport = await open_transport(link_or_transport)
        device = Device.with_hci(name, bumble_address, transport.source, transport.sink)
        peripheral = SimPeripheral(device, address, transport=transport)
    try:
        await device.power_on()
    except BaseException:
        await peripheral.close()
        raise
    return peripheral
