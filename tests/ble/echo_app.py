"""A small GATT app written against aioble, run by the tests on simulated controllers.

It plays the role of firmware (the stand-ins hold none): one service whose endpoints are
characteristics named by 0x2901 descriptors, as the provisioning service is built.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from tests.ble.standins import import_standins

bluetooth, aioble = import_standins()

SERVICE_UUID = "5f0c0001-8d6b-4c5e-9a3e-6f7a1b2c3d4e"
INFO_UUID = "5f0c0002-8d6b-4c5e-9a3e-6f7a1b2c3d4e"
COMMAND_UUID = "5f0c0003-8d6b-4c5e-9a3e-6f7a1b2c3d4e"
EVENTS_UUID = "5f0c0004-8d6b-4c5e-9a3e-6f7a1b2c3d4e"
LARGE_UUID = "5f0c0005-8d6b-4c5e-9a3e-6f7a1b2c3d4e"
COMPANY_ID = 0xFFFF  # "no company": for tests and prototypes


@dataclass
class EchoApp:
    """Writes to ``command`` are recorded and echoed back as notifications on ``events``.

    Commands: ``b"drop"`` makes the device end the connection; ``b"silence"`` makes it stop
    answering (no notification) so a client's wait can time out.
    """

    name: str
    device_info: bytes
    received: list[bytes] = field(default_factory=list)
    connections: int = 0
    mtus: list[int] = field(default_factory=list)

    async def run(self) -> None:
        service = aioble.Service(bluetooth.UUID(SERVICE_UUID))
        info = aioble.Characteristic(service, bluetooth.UUID(INFO_UUID), read=True)
        aioble.Descriptor(info, bluetooth.UUID(0x2901), read=True, initial=b"device-info")
        command = aioble.Characteristic(
            service,
            bluetooth.UUID(COMMAND_UUID),
            write=True,
            write_no_response=True,
            capture=True,
        )
        aioble.Descriptor(command, bluetooth.UUID(0x2901), read=True, initial=b"command")
        events = aioble.Characteristic(service, bluetooth.UUID(EVENTS_UUID), read=True, notify=True)
        aioble.Descriptor(events, bluetooth.UUID(0x2901), read=True, initial=b"events")
        large = aioble.BufferedCharacteristic(
            service,
            bluetooth.UUID(LARGE_UUID),
            read=True,
            write=True,
            capture=True,
            max_len=512,
        )
        aioble.Descriptor(large, bluetooth.UUID(0x2901), read=True, initial=b"large")
        aioble.register_services(service)
        info.write(self.device_info)

        while True:
            connection = await aioble.advertise(
                250_000,
                name=self.name,
                services=[bluetooth.UUID(SERVICE_UUID)],
                manufacturer=(COMPANY_ID, self.name.encode()[-6:]),
            )
            self.connections += 1
            serve_large = asyncio.create_task(self._serve_large(large))
            try:
                await self._serve(connection, command, events)
            finally:
                serve_large.cancel()

    async def _serve(self, connection, command, events) -> None:
        while connection.is_connected():
            try:
                with connection.timeout(None):
                    peer, data = await command.written()
            except aioble.DeviceDisconnectedError:
                return
            self.received.append(data)
            self.mtus.append(connection.mtu)
            if data == b"drop":
                await connection.disconnect()
                return
            if data != b"silence":
                events.notify(peer, b"echo:" + data)

    async def _serve_large(self, large) -> None:
        while True:
            _, data = await large.written()
            self.received.append(data)
