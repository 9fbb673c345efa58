"""The Bumble back end when the peer misbehaves mid-operation: it hangs up while a read is in
flight, or never answers. The peer is a bare Bumble peripheral whose read handler waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from bleak import BleakClient
from bleak.exc import BleakError
from bumble import att
from bumble.controller import Controller
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, Service
from bumble.hci import Address
from bumble.host import Host
from bumble.transport.common import AsyncPipeSink

from pooldesk.ble.bumble_backend import BumbleClient
from pooldesk.ble.central import shared_central
from pooldesk.ble.radio import get_virtual_link
from tests.support.waiting import wait_until

SLOW_SERVICE = "7a3e0001-51c2-4e27-9f0b-6a1d2c3b4a59"
SLOW_VALUE = "7a3e0002-51c2-4e27-9f0b-6a1d2c3b4a59"
ADDRESS = "C0:DE:00:51:0A:01"


class SlowPeripheral:
    """Answers reads of SLOW_VALUE only when ``release`` is set."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.read_started = asyncio.Event()
        link = get_virtual_link()
        self.controller = Controller("slow", link=link)
        self.device = Device(
            name="Slow",
            address=Address(ADDRESS, Address.RANDOM_DEVICE_ADDRESS),
            host=Host(self.controller, AsyncPipeSink(self.controller)),
        )
        self.device.add_service(
            Service(
                SLOW_SERVICE,
                [
                    Characteristic(
                        SLOW_VALUE,
                        Characteristic.Properties.READ,
                        Characteristic.READABLE,
                        att.AttributeValue(read=self._read),
                    )
                ],
            )
        )
        self.connections: list[Connection] = []
        self.device.on("connection", self.connections.append)

    async def _read(self, _connection: Connection) -> bytes:
        self.read_started.set()
        await self.release.wait()
        return b"late"

    async def start(self) -> None:
        await self.device.power_on()
        await self.device.start_advertising(
            advertising_interval_min=20, advertising_interval_max=20
        )

    async def close(self) -> None:
        self.release.set()
        await asyncio.sleep(0)
        for connection in list(self.device.connections.values()):
            await connection.disconnect()
        await self.device.stop_advertising()
        await self.device.power_off()
        get_virtual_link().remove_controller(self.controller)


@pytest.fixture
async def slow(virtual_radio: None) -> AsyncIterator[SlowPeripheral]:
    peripheral = SlowPeripheral()
    await peripheral.start()
    yield peripheral
    await peripheral.close()


async def test_peer_hanging_up_mid_read_raises_and_fires_the_callback(slow):
    lost = asyncio.Event()
    client = BleakClient(ADDRESS, lambda _: lost.set(), backend=BumbleClient)
    await client.connect()
    read = asyncio.create_task(client.read_gatt_char(SLOW_VALUE))
    await slow.read_started.wait()
    await slow.connections[0].disconnect()  # the device goes away while the read waits

    with pytest.raises(BleakError, match="disconnected"):
        await read
    assert lost.is_set()
    assert not client.is_connected


async def test_an_unanswered_read_times_out_and_drops_the_link(slow):
    lost = asyncio.Event()
    client = BleakClient(ADDRESS, lambda _: lost.set(), backend=BumbleClient, operation_timeout=0.3)
    await client.connect()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimeoutError, match=r"timed out after 0.3 s"):
        await client.read_gatt_char(SLOW_VALUE)
    assert 0.25 < loop.time() - started < 5  # not a longer default: busy CI may add seconds
    # An ATT transaction that timed out ends the link (Core spec), as on other stacks.
    assert lost.is_set()
    assert not client.is_connected


async def test_a_cancelled_connect_stops_its_scan_and_leaves_the_radio_usable(slow):
    central = await shared_central()
    absent = BleakClient("C0:DE:00:00:00:77", backend=BumbleClient, timeout=30)
    connect = asyncio.create_task(absent.connect())
    # looking for the absent device
    await wait_until(lambda: central.device.is_scanning, within=5, what="the scan")
    connect.cancel()
    with pytest.raises(asyncio.CancelledError):
        await connect
    assert not absent.is_connected
    assert not central.device.is_scanning
    async with BleakClient(ADDRESS, backend=BumbleClient) as present:
        assert present.is_connected
