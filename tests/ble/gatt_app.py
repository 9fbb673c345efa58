"""What a GATT app on MicroPython's low-level ``bluetooth`` module needs around it, for the
test apps that play firmware on simulated controllers: advertising payloads and an IRQ inbox
that tasks can await (the handler itself only records, as on the board)."""

from __future__ import annotations

import asyncio
import struct
from typing import Any

from tests.ble.standins import import_bluetooth

bluetooth = import_bluetooth()

IRQ_CENTRAL_CONNECT = 1
IRQ_CENTRAL_DISCONNECT = 2
IRQ_GATTS_WRITE = 3
IRQ_GATTS_INDICATE_DONE = 20
IRQ_MTU_EXCHANGED = 21

FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
FLAG_INDICATE = 0x0020
DESC_READ = 0x0001
DESC_WRITE = 0x0002
USER_DESCRIPTION = bluetooth.UUID(0x2901)


def ad_structure(kind: int, value: bytes) -> bytes:
    return struct.pack("BB", len(value) + 1, kind) + value


def payloads(
    name: str | None = None,
    services: list[str] = (),  # type: ignore[assignment]
    manufacturer: tuple[int, bytes] | None = None,
) -> tuple[bytes, bytes]:
    """(advertisement, scan response): flags and service UUIDs first, name and manufacturer
    data in the scan response, the way the firmware lays them out."""
    adv = ad_structure(0x01, b"\x06")
    for uuid in services:
        raw = bytes(bluetooth.UUID(uuid))
        adv += ad_structure(0x07 if len(raw) == 16 else 0x03, raw)
    resp = b""
    if name:
        resp += ad_structure(0x09, name.encode())
    if manufacturer is not None:
        resp += ad_structure(0xFF, struct.pack("<H", manufacturer[0]) + manufacturer[1])
    return adv, resp


class Inbox:
    """Records IRQs (copying written values at once, as a handler must) and wakes waiters."""

    def __init__(self, ble: Any) -> None:
        self.ble = ble
        self.events: list[tuple[int, tuple]] = []
        self._changed = asyncio.Event()
        ble.irq(self.handler)

    def handler(self, event: int, data: tuple) -> None:
        if event == IRQ_GATTS_WRITE:
            data = (*data, self.ble.gatts_read(data[1]))
        elif event in (IRQ_CENTRAL_CONNECT, IRQ_CENTRAL_DISCONNECT):
            data = (data[0], data[1], bytes(data[2]))
        self.events.append((event, data))
        self._changed.set()

    async def next(self, *wanted: int) -> tuple[int, tuple]:
        """The oldest recorded event of one of the `wanted` kinds (removed from the inbox)."""
        while True:
            for i, (event, data) in enumerate(self.events):
                if event in wanted:
                    del self.events[i]
                    return event, data
            self._changed.clear()
            await self._changed.wait()
