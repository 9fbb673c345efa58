"""bleak's own BleakScanner/BleakClient on the Bumble back end, against simulated controllers
built on the ``bluetooth`` stand-in, all on Bumble's virtual radio."""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import (
    BleakDeviceNotFoundError,
    BleakError,
    BleakGATTProtocolError,
    BleakGATTProtocolErrorCode,
)

from pooldesk.ble.bumble_backend import BumbleClient, BumbleScanner
from tests.ble.echo_app import (
    COMMAND_UUID,
    COMPANY_ID,
    EVENTS_UUID,
    INFO_UUID,
    LARGE_UUID,
    SERVICE_UUID,
    EchoApp,
)
from tests.support.waiting import assert_nothing_arrives, wait_until

POOL_A = ("C0:DE:00:A1:B2:C3", "ESP-A1B2C3")
POOL_B = ("C0:DE:00:D4:E5:F6", "ESP-D4E5F6")
USER_DESCRIPTION = "00002901-0000-1000-8000-00805f9b34fb"


async def start_echo(farm, address_name, info=b'{"v":1}'):
    address, name = address_name
    app = EchoApp(name, info)
    running = await farm.start(address, name, app.run)
    return app, running


async def test_discover_lists_both_controllers_with_their_advertising_data(farm):
    await start_echo(farm, POOL_A)
    await start_echo(farm, POOL_B)

    found = await BleakScanner.discover(0.3, return_adv=True, backend=BumbleScanner)

    assert set(found) == {POOL_A[0], POOL_B[0]}
    for address, name in (POOL_A, POOL_B):
        device, adv = found[address]
        assert device.name == name
        assert adv.local_name == name
        assert adv.service_uuids == [SERVICE_UUID]
        assert adv.manufacturer_data == {COMPANY_ID: name.encode()[-6:]}
        assert -100 < adv.rssi < 0


async def test_service_filter_and_detection_callback(farm):
    await start_echo(farm, POOL_A)
    heard: list[str] = []

    def on_advertisement(device, adv):
        heard.append(device.address)

    async with BleakScanner(on_advertisement, service_uuids=[SERVICE_UUID], backend=BumbleScanner):
        await wait_until(lambda: POOL_A[0] in heard, within=5, what="an advertisement")

    other = await BleakScanner.discover(
        0.15, service_uuids=["0000180d-0000-1000-8000-00805f9b34fb"], backend=BumbleScanner
    )
    assert other == []


async def test_find_by_name_then_full_gatt_session(farm):
    app, _ = await start_echo(farm, POOL_A, info=b'{"device_id":"ESP-A1B2C3"}')
    device = await BleakScanner.find_device_by_name(POOL_A[1], timeout=2, backend=BumbleScanner)
    assert device is not None

    notifications: list[bytes] = []
    two_arrived = asyncio.Event()

    def on_event(_, data: bytearray) -> None:
        notifications.append(bytes(data))
        if len(notifications) == 2:
            two_arrived.set()

    async with BleakClient(device, backend=BumbleClient) as client:
        assert client.is_connected
        assert client.mtu_size == 256  # 517 asked, the ESP32's preferred MTU granted
        service = client.services.get_service(SERVICE_UUID)
        names = {}
        for characteristic in service.characteristics:
            descriptor = characteristic.get_descriptor(USER_DESCRIPTION)
            names[bytes(await client.read_gatt_descriptor(descriptor)).decode()] = (
                characteristic.uuid
            )
        assert names == {
            "device-info": INFO_UUID,
            "command": COMMAND_UUID,
            "events": EVENTS_UUID,
            "large": LARGE_UUID,
        }
        assert await client.read_gatt_char(INFO_UUID) == bytearray(b'{"device_id":"ESP-A1B2C3"}')

        await client.start_notify(EVENTS_UUID, on_event)
        await client.write_gatt_char(COMMAND_UUID, b"one", response=True)
        await client.write_gatt_char(COMMAND_UUID, b"two", response=False)
        async with asyncio.timeout(2):
            await two_arrived.wait()
        await client.stop_notify(EVENTS_UUID)
        await client.write_gatt_char(COMMAND_UUID, b"three", response=True)
        await wait_until(lambda: len(app.received) == 3, within=5, what="the third write")
        # the echo of "three" would follow at once: its absence is the claim, watched for a window
        await assert_nothing_arrives(lambda: len(notifications) > 2, 0.3, "a notification")

    assert notifications == [b"echo:one", b"echo:two"]  # nothing after stop_notify
    assert app.received == [b"one", b"two", b"three"]
    assert app.mtus[0] == 256


async def test_connect_by_address_string(farm):
    app, _ = await start_echo(farm, POOL_B)
    async with BleakClient(POOL_B[0], backend=BumbleClient, timeout=3) as client:
        await client.write_gatt_char(COMMAND_UUID, b"hi", response=True)
    await wait_until(lambda: app.received, within=5, what="the write at the peripheral")
    assert app.received == [b"hi"]


async def test_writes_larger_than_the_mtu(farm):
    app, _ = await start_echo(farm, POOL_A)
    blob = bytes(range(256)) * 2  # 512 bytes: the largest attribute value
    async with BleakClient(POOL_A[0], backend=BumbleClient, mtu=23) as client:
        assert client.mtu_size == 23
        # With response: a long write (prepare/execute), arriving whole on the device.
        await client.write_gatt_char(LARGE_UUID, blob, response=True)
        assert await client.read_gatt_char(LARGE_UUID) == bytearray(blob)  # long read back
        # Without response, data must fit in one packet: refused before anything is sent.
        with pytest.raises(BleakError, match="does not fit in one write without response"):
            await client.write_gatt_char(COMMAND_UUID, b"x" * 21, response=False)
        with pytest.raises(BleakError, match="more than a GATT attribute holds"):
            await client.write_gatt_char(LARGE_UUID, blob + b"!", response=True)
    assert blob in app.received


async def test_default_characteristic_buffer_cuts_long_writes_like_the_esp32(farm):
    app, _ = await start_echo(farm, POOL_A)
    async with BleakClient(POOL_A[0], backend=BumbleClient) as client:
        await client.write_gatt_char(COMMAND_UUID, b"0123456789abcdefghijKLMNOP", response=True)
        await wait_until(lambda: app.received, within=5, what="the write at the peripheral")
    # a value buffer keeps MicroPython's 20 bytes unless gatts_set_buffer made it larger
    assert app.received == [b"0123456789abcdefghij"]


async def test_att_errors_become_bleak_protocol_errors(farm):
    await start_echo(farm, POOL_A)
    async with BleakClient(POOL_A[0], backend=BumbleClient) as client:
        with pytest.raises(BleakGATTProtocolError) as refused:
            await client.write_gatt_char(INFO_UUID, b"nope", response=True)
        assert refused.value.code == BleakGATTProtocolErrorCode.WRITE_NOT_PERMITTED
        assert "Write Not Permitted" in str(refused.value)
        with pytest.raises(BleakGATTProtocolError) as unreadable:
            await client.read_gatt_char(COMMAND_UUID)
        assert unreadable.value.code == BleakGATTProtocolErrorCode.READ_NOT_PERMITTED
        with pytest.raises(BleakError, match="does not support notifications"):
            await client.start_notify(INFO_UUID, lambda *_: None)
        assert client.is_connected  # errors leave the connection usable
        assert await client.read_gatt_char(INFO_UUID)


async def test_peer_disconnect_fires_callback_and_fails_later_operations(farm):
    app, _ = await start_echo(farm, POOL_A)
    lost = asyncio.Event()
    client = BleakClient(POOL_A[0], lambda _: lost.set(), backend=BumbleClient)
    await client.connect()
    info = client.services.get_characteristic(INFO_UUID)
    await client.write_gatt_char(COMMAND_UUID, b"drop", response=True)  # device hangs up
    async with asyncio.timeout(2):
        await lost.wait()
    assert not client.is_connected
    with pytest.raises(BleakError):  # as on BlueZ, the services are gone with the link
        await client.read_gatt_char(info)
    await client.disconnect()  # harmless after the peer left

    # The device advertises again and accepts a new connection.
    async with BleakClient(POOL_A[0], backend=BumbleClient) as again:
        await again.write_gatt_char(COMMAND_UUID, b"back", response=True)
    await wait_until(lambda: app.connections == 2, within=5, what="the second connection")


async def test_absent_address_is_not_found_within_the_timeout(virtual_radio):
    loop = asyncio.get_running_loop()
    started = loop.time()
    client = BleakClient("C0:DE:00:00:00:01", backend=BumbleClient, timeout=0.5)
    with pytest.raises(BleakDeviceNotFoundError, match="not advertising"):
        await client.connect()
    assert 0.45 < loop.time() - started < 5  # not a longer default: busy CI may add seconds
    assert not client.is_connected
