"""The transport seam: what the provisioning client needs from a Bluetooth connection.

`pooldesk.ble.link` implements it over bleak (finding characteristics by their 0x2901 names);
tests use an in-memory link wired to the device-side protocol code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

ENDPOINT_NAMES = (
    "device-info",
    "prov-session",
    "prov-config",
    "prov-scan",
    "prov-ctrl",
    "prov-status",
)


@runtime_checkable
class GattLink(Protocol):
    """A connected GATT peer whose characteristics are addressed by endpoint name.

    Failures (disconnect, GATT error, unknown endpoint) raise `LinkError`.
    """

    @property
    def mtu(self) -> int:
        """The negotiated ATT MTU (23 when nothing was negotiated)."""
        ...

    async def read(self, endpoint: str) -> bytes:
        """Read the whole value (long read if needed)."""
        ...

    async def write(self, endpoint: str, data: bytes) -> None:
        """One write with response; `len(data) <= mtu - 3`."""
        ...

    async def subscribe(self, endpoint: str, callback: Callable[[bytes], None]) -> None:
        """Enable notifications; `callback(value)` is called for each, in arrival order,
        on the event loop thread."""
        ...
