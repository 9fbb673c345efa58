"""aioble.advertise() on the simulated controller's Bumble radio."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

from firmware.sim.blectx import cancel_safe

from .core import radio
from .device import DeviceConnection, DeviceTimeout

_ADV_TYPE_FLAGS = 0x01
_ADV_TYPE_NAME = 0x09
_ADV_TYPE_UUID16_COMPLETE = 0x03
_ADV_TYPE_UUID32_COMPLETE = 0x05
_ADV_TYPE_UUID128_COMPLETE = 0x07
_ADV_TYPE_APPEARANCE = 0x19
_ADV_TYPE_MANUFACTURER = 0xFF

# A legacy advertisement (and its scan response) carries at most 31 bytes; aioble keeps
# each part under that and raises ValueError when a field fits in neither.
_ADV_PAYLOAD_MAX_LEN = 31

_UUID_TYPES = {
    2: _ADV_TYPE_UUID16_COMPLETE,
    4: _ADV_TYPE_UUID32_COMPLETE,
    16: _ADV_TYPE_UUID128_COMPLETE,
}


def _append(adv_data: bytearray, resp_data: bytearray, ad_type: int, value: bytes) -> None:
    """Put one AD structure in the advertisement, or the scan response when it is full."""
    field = struct.pack("BB", len(value) + 1, ad_type) + value
    if len(adv_data) + len(field) < _ADV_PAYLOAD_MAX_LEN:
        adv_data += field
    elif len(resp_data) + len(field) < _ADV_PAYLOAD_MAX_LEN:
        resp_data += field
    else:
        raise ValueError("Advertising payload too long")


def build_payloads(
    *,
    limited_disc: bool = False,
    br_edr: bool = False,
    name: str | bytes | None = None,
    services: list[Any] | None = None,
    appearance: int = 0,
    manufacturer: tuple[int, bytes] | None = None,
) -> tuple[bytes, bytes]:
    """aioble's payload layout: flags, services, name, appearance, manufacturer data."""
    adv_data = bytearray()
    resp_data = bytearray()
    flags = (0x01 if limited_disc else 0x02) + (0x18 if br_edr else 0x04)
    _append(adv_data, resp_data, _ADV_TYPE_FLAGS, struct.pack("B", flags))
    for uuid in services or ():
        raw = bytes(uuid)
        if len(raw) in _UUID_TYPES:
            _append(adv_data, resp_data, _UUID_TYPES[len(raw)], raw)
    if name:
        _append(
            adv_data,
            resp_data,
            _ADV_TYPE_NAME,
            name.encode() if isinstance(name, str) else bytes(name),
        )
    if appearance:
        _append(adv_data, resp_data, _ADV_TYPE_APPEARANCE, struct.pack("<H", appearance))
    if manufacturer:
        company, data = manufacturer
        _append(
            adv_data, resp_data, _ADV_TYPE_MANUFACTURER, struct.pack("<H", company) + bytes(data)
        )
    return bytes(adv_data), bytes(resp_data)


async def advertise(
    interval_us: int,
    adv_data: bytes | None = None,
    resp_data: bytes | None = None,
    connectable: bool = True,
    limited_disc: bool = False,
    br_edr: bool = False,
    name: str | bytes | None = None,
    services: list[Any] | None = None,
    appearance: int = 0,
    manufacturer: tuple[int, bytes] | None = None,
    timeout_ms: int | None = None,
) -> DeviceConnection:
    """Advertise until a central connects (returns its connection) or ``timeout_ms`` passes
    (``asyncio.TimeoutError``). Cancelling the task stops advertising."""
    state = radio()
    if not adv_data and not resp_data:
        adv_data, resp_data = build_payloads(
            limited_disc=limited_disc,
            br_edr=br_edr,
            name=name,
            services=services,
            appearance=appearance,
            manufacturer=manufacturer,
        )
    loop = asyncio.get_running_loop()
    pending: asyncio.Future[DeviceConnection] = loop.create_future()
    state.pending_connection = pending
    peripheral = state.peripheral
    try:
        await cancel_safe(
            peripheral.start_advertising(
                bytes(adv_data or b""), bytes(resp_data or b""), interval_us / 1000, connectable
            )
        )
        with DeviceTimeout(None, timeout_ms):
            return await pending
    except BaseException:
        if state.pending_connection is pending:
            state.pending_connection = None
        if not peripheral.closed:
            await asyncio.shield(peripheral.stop_advertising())
        raise
