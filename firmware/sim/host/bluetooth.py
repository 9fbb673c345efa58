"""Host stand-in for MicroPython's ``bluetooth`` module: the parts aioble and the firmware use.

``UUID`` behaves like MicroPython's (``bytes(uuid)`` is the little-endian over-the-air form);
``BLE()`` reaches the simulated controller's radio (``firmware.sim.blectx.PERIPHERAL``) for
``active()`` and ``config()`` ("mac", "gap_name", "mtu", "addr_mode").
"""

from __future__ import annotations

import uuid as _uuid
from typing import Any

from firmware.sim.blectx import PERIPHERAL, SimPeripheral

FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
FLAG_INDICATE = 0x0020

ADDR_PUBLIC = 0
ADDR_RANDOM = 1


class UUID:
    """A 16-bit (``UUID(0x2901)``, ``UUID("2901")``) or 128-bit (``UUID("6e40...-...")``) UUID."""

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


class BLE:
    """The radio of the simulated controller whose firmware task is running."""

    def __init__(self) -> None:
        self._peripheral = _current_peripheral()

    def active(self, state: bool | None = None) -> bool:
        return not self._peripheral.closed

    def config(self, *names: str, **values: Any) -> Any:
        peripheral = self._peripheral
        if names and values:
            raise TypeError("either query one value or set values")
        if values:
            for key, value in values.items():
                if key == "mtu":
                    if not 23 <= int(value) <= 517:
                        raise ValueError("mtu must be between 23 and 517")
                    peripheral.preferred_mtu = int(value)
                elif key == "gap_name":
                    peripheral.device.name = str(value)
                elif key in ("addr_mode", "io", "bond", "le_secure", "mitm", "rxbuf"):
                    pass  # accepted; the simulator does not model these
                else:
                    raise ValueError(f"unknown config param {key!r}")
            return None
        if len(names) != 1:
            raise TypeError("query exactly one value")
        name = names[0]
        if name == "mac":
            return (ADDR_RANDOM, bytes.fromhex(peripheral.address.replace(":", "")))
        if name == "gap_name":
            return peripheral.device.name
        if name == "mtu":
            return peripheral.preferred_mtu
        raise ValueError(f"unknown config param {name!r}")

    def irq(self, handler: Any) -> None:
        raise NotImplementedError("the simulator supports Bluetooth through aioble only")


def _current_peripheral() -> SimPeripheral:
    try:
        return PERIPHERAL.get()
    except LookupError:
        raise OSError(
            "no simulated Bluetooth radio in this context: the simulator must set "
            "firmware.sim.blectx.PERIPHERAL before running the firmware"
        ) from None
