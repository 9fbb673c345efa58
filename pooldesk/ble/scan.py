"""Find nearby pool controllers by their advertisements (Qt-free; the wizard's scan step).

A controller is recognised by the provisioning service UUID in its advertisement, or by its
manufacturer data (company 0xFFFF, "PD" prefix), which also says whether it is already bound
(docs/provisioning.md section 1). Uses the current radio's bleak back end (``radio.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData

from pooldesk.ble.radio import scanner_backend
from pooldesk.provisioning.protocol import MANUFACTURER_ID, SERVICE_UUID, parse_manufacturer_data
from pooldesk_contract.ids import is_device_id

PROGRESS_STEP = 0.1  # seconds between progress reports


@dataclass(frozen=True)
class NearbyController:
    """One controller heard during a scan. ``bound`` is None when it did not say."""

    device_id: str
    name: str
    rssi: int
    bound: bool | None
    address: str
    ble_device: BLEDevice


def controller_from_advertisement(
    device: BLEDevice, advertisement: AdvertisementData
) -> NearbyController | None:
    """The controller an advertisement comes from, or None if it is not a pool controller."""
    parsed = None
    raw = advertisement.manufacturer_data.get(MANUFACTURER_ID)
    if raw is not None:
        parsed = parse_manufacturer_data(raw)
    offers_service = SERVICE_UUID in (u.lower() for u in advertisement.service_uuids)
    if parsed is None and not offers_service:
        return None
    name = advertisement.local_name or device.name or ""
    if parsed is not None:
        device_id, bound = parsed[0], parsed[1]
    elif is_device_id(name.upper()):
        device_id, bound = name.upper(), None
    else:
        return None  # offers the service but says nothing that identifies it
    return NearbyController(
        device_id=device_id,
        name=name or device_id,
        rssi=advertisement.rssi,
        bound=bound,
        address=device.address,
        ble_device=device,
    )


async def scan_for_controllers(
    duration: float = 3.0,
    *,
    on_found: Callable[[NearbyController], None] | None = None,
    on_progress: Callable[[float], None] | None = None,
    stop_when: Callable[[dict[str, NearbyController]], bool] | None = None,
) -> list[NearbyController]:
    """Scan for ``duration`` seconds; return the controllers heard, strongest signal first.

    ``on_found(controller)`` is called when a controller is first heard and whenever what it
    advertises changes (name, bound flag); RSSI updates alone are not reported.
    ``on_progress(fraction)`` is called about every 0.1 s, from 0.0 to exactly 1.0 at the end.
    ``stop_when(found)`` may end the scan early (e.g. once a wanted device id is heard).
    Cancelling the calling task stops the scan cleanly.
    """
    found: dict[str, NearbyController] = {}
    enough = asyncio.Event()

    def on_advertisement(device: BLEDevice, advertisement: AdvertisementData) -> None:
        controller = controller_from_advertisement(device, advertisement)
        if controller is None:
            return
        previous = found.get(controller.device_id)
        found[controller.device_id] = controller
        changed = previous is None or (previous.name, previous.bound) != (
            controller.name,
            controller.bound,
        )
        if changed and on_found is not None:
            on_found(controller)
        if stop_when is not None and stop_when(found):
            enough.set()

    loop = asyncio.get_running_loop()
    started = loop.time()
    if on_progress is not None:
        on_progress(0.0)
    async with BleakScanner(on_advertisement, backend=scanner_backend()):
        while not enough.is_set():
            elapsed = loop.time() - started
            if elapsed >= duration:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(enough.wait(), min(PROGRESS_STEP, duration - elapsed))
            if on_progress is not None:
                on_progress(min((loop.time() - started) / duration, 1.0))
    if on_progress is not None:
        on_progress(1.0)
    return sorted(found.values(), key=lambda c: (-c.rssi, c.device_id))
