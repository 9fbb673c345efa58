"""The aioble stand-in behaves as aioble does on an ESP32, seen from a bleak central."""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakClient, BleakScanner

from firmware.sim.blectx import PERIPHERAL
from pooldesk.ble.bumble_backend import BumbleClient, BumbleScanner
from tests.ble.standins import import_standins

bluetooth, aioble = import_standins()

SERVICE = "3c1d0001-7f5e-4b8a-a1c2-0d9e8f7a6b5c"
INBOX = "3c1d0002-7f5e-4b8a-a1c2-0d9e8f7a6b5c"
OUTBOX = "3c1d0003-7f5e-4b8a-a1c2-0d9e8f7a6b5c"
ADDRESS = "C0:DE:00:00:AA:01"


class Recorder:
    """A tiny app: records what its characteristics receive and the connection's life."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.connected = asyncio.Event()
        self.disconnected = asyncio.Event()
        self.connection = None
        self.outbox = None

    async def run(self) -> None:
        service = aioble.Service(bluetooth.UUID(SERVICE))
        inbox = aioble.Characteristic(service, bluetooth.UUID(INBOX), write=True, capture=True)
        self.outbox = aioble.Characteristic(service, bluetooth.UUID(OUTBOX), read=True, notify=True)
        aioble.register_services(service)
        self.connection = await aioble.advertise(
            20_000, name="REC", services=[bluetooth.UUID(SERVICE)]
        )
        self.events.append(("mtu-at-connect", self.connection.mtu))
        self.connected.set()
        reader = asyncio.create_task(self._read(inbox))
        await self.connection.disconnected(timeout_ms=None)
        self.events.append(("disconnected", self.connection.is_connected()))
        self.disconnected.set()
        reader.cancel()

    async def _read(self, inbox) -> None:
        while True:
            connection, data = await inbox.written()
            self.events.append(("write", connection is self.connection, data))


async def test_capture_order_mtu_notify_and_disconnect(farm):
    app = Recorder()
    await farm.start(ADDRESS, "REC", app.run)
    got: list[bytes] = []
    async with BleakClient(ADDRESS, backend=BumbleClient, mtu=100) as client:
        await app.connected.wait()
        await client.start_notify(OUTBOX, lambda _, data: got.append(bytes(data)))
        for n in range(5):
            await client.write_gatt_char(INBOX, f"msg{n}".encode(), response=True)
        await asyncio.sleep(0.05)
        assert app.connection.mtu == 100
        # notify() sends the given bytes, cut to MTU - 3 (97) like NimBLE does
        app.outbox.notify(app.connection, bytes(200))
        # write(send_update=True) notifies subscribed centrals with the new local value
        app.outbox.write(b"local value", send_update=True)
        await asyncio.sleep(0.05)
        assert await client.read_gatt_char(OUTBOX) == bytearray(b"local value")
    async with asyncio.timeout(2):
        await app.disconnected.wait()

    assert [e for e in app.events if e[0] == "write"] == [
        ("write", True, f"msg{n}".encode()) for n in range(5)
    ]
    assert ("mtu-at-connect", 23) in app.events
    assert ("disconnected", False) in app.events
    assert got == [bytes(97), b"local value"]


async def test_timeout_on_written_and_disconnect_inside_connection_timeout(farm):
    outcome: list[str] = []
    ready = asyncio.Event()

    async def app() -> None:
        service = aioble.Service(bluetooth.UUID(SERVICE))
        inbox = aioble.Characteristic(service, bluetooth.UUID(INBOX), write=True)
        aioble.register_services(service)
        try:
            await inbox.written(timeout_ms=50)
        except TimeoutError:
            outcome.append("written timed out")
        connection = await aioble.advertise(20_000, name="TMO")
        ready.set()
        try:
            with connection.timeout(None):
                await inbox.written()
        except aioble.DeviceDisconnectedError:
            outcome.append("disconnected while waiting")
        with pytest.raises(aioble.DeviceDisconnectedError):
            with connection.timeout(1000):
                await asyncio.sleep(5)
        outcome.append("refused on a dead connection")

    running = await farm.start(ADDRESS, "TMO", app)
    async with BleakClient(ADDRESS, backend=BumbleClient):
        await ready.wait()
    async with asyncio.timeout(2):
        await running.task
    assert outcome == [
        "written timed out",
        "disconnected while waiting",
        "refused on a dead connection",
    ]


async def test_advertise_timeout_stops_advertising(farm):
    done = asyncio.Event()
    errors: list[BaseException] = []

    async def app() -> None:
        try:
            await aioble.advertise(20_000, name="SHY", timeout_ms=100)
        except TimeoutError as error:
            errors.append(error)
        done.set()
        await asyncio.Event().wait()

    await farm.start(ADDRESS, "SHY", app)
    async with asyncio.timeout(2):
        await done.wait()
    assert len(errors) == 1
    await asyncio.sleep(0.05)
    found = await BleakScanner.discover(0.2, backend=BumbleScanner)
    assert ADDRESS not in [d.address for d in found]


async def test_advertising_payload_limits_match_aioble(farm):
    seen: list[object] = []

    async def app() -> None:
        try:
            await aioble.advertise(20_000, name="X" * 40)
        except ValueError as error:
            seen.append(error)
        # name and manufacturer data spill into the scan response; the central still sees all
        await aioble.advertise(
            20_000,
            name="ESP-A1B2C3",
            services=[bluetooth.UUID(SERVICE)],
            manufacturer=(0xFFFF, b"PD\x01\x00\xa1\xb2\xc3"),
        )

    await farm.start(ADDRESS, "ESP-A1B2C3", app)
    device = await BleakScanner.find_device_by_address(ADDRESS, timeout=2, backend=BumbleScanner)
    assert device is not None
    found = await BleakScanner.discover(0.2, return_adv=True, backend=BumbleScanner)
    adv = found[ADDRESS][1]
    assert str(seen[0]) == "Advertising payload too long"
    assert adv.local_name == "ESP-A1B2C3"
    assert adv.manufacturer_data == {0xFFFF: b"PD\x01\x00\xa1\xb2\xc3"}
    assert adv.service_uuids == [SERVICE]


async def test_stand_in_outside_a_simulated_controller_says_what_is_missing():
    assert PERIPHERAL.get(None) is None
    with pytest.raises(OSError, match="must set firmware.sim.blectx.PERIPHERAL"):
        aioble.register_services(aioble.Service(bluetooth.UUID(SERVICE)))
    with pytest.raises(OSError, match="no simulated Bluetooth radio"):
        bluetooth.BLE()


def test_uuid_stand_in_matches_micropython():
    assert bytes(bluetooth.UUID(0x2901)) == b"\x01\x29"
    assert bluetooth.UUID("2901") == bluetooth.UUID(0x2901)
    long = bluetooth.UUID(SERVICE)
    assert bytes(long) == bytes(reversed(bytes.fromhex(SERVICE.replace("-", ""))))
    assert repr(long) == f"UUID('{SERVICE}')"
    with pytest.raises(ValueError):
        bluetooth.UUID("not-a-uuid")
