"""One Bumble device in the central role, shared by every bleak scanner and client of a process.

A real Bluetooth adapter is one radio that scans and holds connections at the same time; the
Bumble back end mirrors that with one :class:`BumbleCentral` per process (per event loop), so a
client can connect to what a scanner just saw, and several clients can be connected at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason
from bumble.controller import Controller
from bumble.device import Advertisement, Connection, Device
from bumble.hci import Address, HCI_LE_Create_Connection_Cancel_Command
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink, Transport

from pooldesk.ble.cancelsafe import cancel_safe
from pooldesk.ble.radio import ENV_VAR, Radio, current_radio, get_virtual_link

log = logging.getLogger(__name__)

AdvertisementListener = Callable[[Advertisement], None]

# Scan continuously (window == interval), as an OS scanner does while a scan is on.
_SCAN_INTERVAL_MS = 20.0
# A controller that does not answer its HCI reset within this time is not usable.
_POWER_ON_TIMEOUT = 10.0


class BumbleCentral:
    """A powered-on Bumble ``Device`` plus bookkeeping for shared scanning and connecting."""

    def __init__(
        self,
        device: Device,
        *,
        link: LocalLink | None = None,
        controller: Controller | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.device = device
        self._link = link
        self._controller = controller
        self._transport = transport
        self._loop = asyncio.get_running_loop()
        self._listeners: dict[object, AdvertisementListener] = {}
        self._scan_users = 0
        self._scan_lock = asyncio.Lock()
        self._connect_lock = asyncio.Lock()
        self._closed = False
        self.radio: Radio | None = None
        # Address type (public/random) of every advertiser heard, by "AA:BB:..." string.
        self._heard: dict[str, Address] = {}
        device.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    @property
    def closed(self) -> bool:
        return self._closed

    # -- scanning -------------------------------------------------------------------------
    def add_listener(self, listener: AdvertisementListener) -> Callable[[], None]:
        token = object()
        self._listeners[token] = listener

        def remove() -> None:
            self._listeners.pop(token, None)

        return remove

    async def start_scanning(self) -> None:
        async with self._scan_lock:
            self._scan_users += 1
            if self._scan_users == 1:
                await cancel_safe(
                    self.device.start_scanning(
                        active=True,
                        scan_interval=_SCAN_INTERVAL_MS,
                        scan_window=_SCAN_INTERVAL_MS,
                        filter_duplicates=False,
                    )
                )

    async def stop_scanning(self) -> None:
        async with self._scan_lock:
            if self._scan_users == 0:
                return
            self._scan_users -= 1
            if self._scan_users == 0 and not self._closed:
                await cancel_safe(self.device.stop_scanning())

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        self._heard[advertisement.address.to_string(False)] = advertisement.address
        for listener in list(self._listeners.values()):
            try:
                listener(advertisement)
            except Exception:  # a broken listener must not stop the others
                log.exception("advertisement listener failed")

    def resolve_address(self, address: str) -> Address:
        """The Bumble address (with its public/random type) for an "AA:BB:.." string.

        Uses the type heard in advertisements; an address never heard is taken as random
        (what BLE peripherals advertise with), "/P" marks a public one.
        """
        text = address.strip().upper()
        if text.endswith("/P"):
            return Address(text[:-2], Address.PUBLIC_DEVICE_ADDRESS)
        heard = self._heard.get(text)
        if heard is not None:
            return heard
        return Address(text, Address.RANDOM_DEVICE_ADDRESS)

    # -- connecting -----------------------------------------------------------------------
    async def connect(self, address: Address, within: float) -> Connection:
        """Connect within ``within`` seconds (Bumble's TimeoutError otherwise).

        A controller initiates one connection at a time, so attempts queue here. A timed-out
        or cancelled attempt is withdrawn from the controller, so it cannot complete later.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        async with asyncio.timeout(within):
            await self._connect_lock.acquire()
        try:
            return await cancel_safe(
                self.device.connect(address, timeout=max(deadline - loop.time(), 0.01)),
                interrupt=True,
            )
        except asyncio.CancelledError:
            await asyncio.shield(self._withdraw_connection())
            raise
        finally:
            self._connect_lock.release()

    async def _withdraw_connection(self) -> None:
        try:
            await self.device.send_sync_command(HCI_LE_Create_Connection_Cancel_Command())
        except Exception:  # the attempt may have just completed or failed
            log.debug("cancelling a pending connection failed", exc_info=True)

    # -- shutdown -------------------------------------------------------------------------
    async def close(self) -> None:
        """Disconnect everything, stop scanning and leave the radio (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._listeners.clear()
        try:
            if self._loop.is_closed() or self._loop is not asyncio.get_running_loop():
                return
            for connection in list(self.device.connections.values()):
                try:
                    async with asyncio.timeout(2):
                        await connection.disconnect()
                except Exception:  # already gone, or the peer vanished
                    log.debug("disconnect on close failed", exc_info=True)
            try:
                async with asyncio.timeout(3):
                    if self.device.is_scanning:
                        await self.device.stop_scanning()
                    await self.device.power_off()
            except TimeoutError:  # never let quitting the app hang on the radio
                log.warning("the Bluetooth radio did not stop in 3 s; leaving it")
        finally:
            if self._link is not None and self._controller in self._link.controllers:
                self._link.remove_controller(self._controller)
            if self._transport is not None:
                await self._transport.close()


async def open_central(radio: Radio) -> BumbleCentral:
    """Power on a Bumble central on the virtual link or on a Bumble transport."""
    address = Address.generate_static_address()
    if radio.kind == "virtual":
        link = get_virtual_link()
        controller = Controller("pooldesk-central", link=link)
        host = Host(controller, AsyncPipeSink(controller))
        device = Device(name="PoolDesk", address=address, host=host)
        central = BumbleCentral(device, link=link, controller=controller)
    elif radio.kind == "transport":
        assert radio.transport is not None
        try:
            transport = await open_transport(radio.transport)
        except Exception as error:
            raise _not_available(radio, error) from error
        device = Device.with_hci("PoolDesk", address, transport.source, transport.sink)
        central = BumbleCentral(device, transport=transport)
    else:
        raise ValueError("the OS radio does not use a Bumble central")
    central.radio = radio
    try:
        async with asyncio.timeout(_POWER_ON_TIMEOUT):
            await device.power_on()
    except Exception as error:
        await central.close()
        raise _not_available(radio, error) from error
    except BaseException:
        await central.close()
        raise
    return central


def _not_available(radio: Radio, error: BaseException) -> BleakBluetoothNotAvailableError:
    return BleakBluetoothNotAvailableError(
        f"Could not use the Bluetooth controller {radio.transport!r} ({ENV_VAR}): "
        f"{error or type(error).__name__}. Check that the dongle is plugged in and not in use "
        "by another program, or unset the setting to use the system's Bluetooth.",
        BleakBluetoothNotAvailableReason.NO_BLUETOOTH,
    )


_shared: BumbleCentral | None = None
_shared_lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None


def _lock_for(loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
    global _shared_lock
    if _shared_lock is None or _shared_lock[0] is not loop:
        _shared_lock = (loop, asyncio.Lock())
    return _shared_lock[1]


async def shared_central() -> BumbleCentral:
    """The process's central for the current radio (see ``radio.py``), opened on first use."""
    global _shared
    loop = asyncio.get_running_loop()
    async with _lock_for(loop):
        radio = current_radio()
        if _shared is not None and (
            _shared.closed or _shared.loop is not loop or _shared.radio != radio
        ):
            await _drop_stale(_shared)
            _shared = None
        if _shared is None:
            if not radio.uses_bumble:
                raise RuntimeError(
                    "the Bumble back end needs POOLDESK_BLE=virtual or a Bumble transport name"
                )
            _shared = await open_central(radio)
        return _shared


async def close_shared_central() -> None:
    """Close the shared central (app shutdown, test teardown). Safe to call any time."""
    global _shared
    central, _shared = _shared, None
    if central is not None:
        await central.close()


async def _drop_stale(central: BumbleCentral) -> None:
    """Forget a central left over from an event loop that has gone away."""
    if central.loop is asyncio.get_running_loop():
        await central.close()
        return
    central._closed = True
    if central._link is not None and central._controller in central._link.controllers:
        central._link.remove_controller(central._controller)
