"""An in-memory GattLink: carries frames between the client and the device-side protocol engine.

It is a transport seam, doing what the Bluetooth glue and the radio do (one peer, ATT size limit,
notifications delivered in order on the event loop), not a model of either side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pooldesk.provisioning import LinkError

from .device_side import prov_core


class MemoryLink:
    def __init__(
        self,
        host: Any,
        *,
        mtu: int = 23,
        now_ms: Callable[[], int] | None = None,
        urandom: Callable[[int], bytes] | None = None,
    ) -> None:
        self.host = host
        self.core = prov_core.ProvCore(host, urandom=urandom, now_ms=now_ms)
        self.core.mtu = mtu
        self._mtu = mtu
        self._lock = asyncio.Lock()
        self._subscribers: dict[str, Callable[[bytes], None]] = {}
        self.written: list[tuple[str, bytes]] = []  # what a passive listener would see
        self.notified: list[tuple[str, bytes]] = []
        self.connected = True
        host.provisioning = self

    # GattLink
    @property
    def mtu(self) -> int:
        return self._mtu

    async def read(self, endpoint: str) -> bytes:
        if endpoint != "device-info":
            raise LinkError(f"{endpoint} is not readable")
        return self.core.device_info()

    async def write(self, endpoint: str, data: bytes) -> None:
        if not self.connected:
            raise LinkError("not connected")
        if len(data) > self._mtu - 3:
            raise LinkError(f"write of {len(data)} bytes exceeds the ATT MTU")
        self.written.append((endpoint, bytes(data)))
        await self.raw_write(endpoint, data)

    async def subscribe(self, endpoint: str, callback: Callable[[bytes], None]) -> None:
        self._subscribers[endpoint] = callback

    # the device's side of the seam
    async def raw_write(self, endpoint: str, data: bytes) -> None:
        """Any peer write, delivered to the device engine (tests use it to replay bytes)."""
        async with self._lock:
            self._deliver(await self.core.on_write(endpoint, bytes(data)))

    def publish_status(self, state: str, detail: dict[str, Any] | None = None) -> None:
        self._deliver(self.core.status_event(state, detail))

    def disconnect(self) -> None:
        self.connected = False
        self.core.reset()

    def _deliver(self, frames: list[tuple[str, bytes]]) -> None:
        if not self.connected:  # nothing reaches a peer that left
            return
        loop = asyncio.get_running_loop()
        for endpoint, frame in frames:
            self.notified.append((endpoint, frame))
            callback = self._subscribers.get(endpoint)
            if callback is not None:
                loop.call_soon(callback, frame)
