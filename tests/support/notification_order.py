"""A GattLink wrapper that notes which endpoint each notification arrived on, in order.

The frames stay sealed: only the order is recorded, which is what the protocol promises about
answers and status events (docs/provisioning.md §8)."""

from __future__ import annotations

from collections.abc import Callable

from pooldesk.provisioning.link import GattLink


class NotificationOrder:
    def __init__(self, link: GattLink) -> None:
        self._link = link
        self.endpoints: list[str] = []  # one entry per notified frame

    @property
    def mtu(self) -> int:
        return self._link.mtu

    async def read(self, endpoint: str) -> bytes:
        return await self._link.read(endpoint)

    async def write(self, endpoint: str, data: bytes) -> None:
        await self._link.write(endpoint, data)

    async def subscribe(self, endpoint: str, callback: Callable[[bytes], None]) -> None:
        def noted(data: bytes) -> None:
            self.endpoints.append(endpoint)
            callback(data)

        await self._link.subscribe(endpoint, noted)

    def since(self, mark: int) -> list[str]:
        """The endpoints notified after the first `mark` frames, consecutive repeats merged."""
        merged: list[str] = []
        for endpoint in self.endpoints[mark:]:
            if not merged or merged[-1] != endpoint:
                merged.append(endpoint)
        return merged
