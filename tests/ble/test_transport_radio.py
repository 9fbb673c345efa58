"""The Bumble-transport radio choice (``POOLDESK_BLE=tcp-client:...``, ``usb:0``...): here the
"dongle" is a Bumble controller on the virtual link, reached over HCI on a loopback TCP socket,
so the code path is the one a USB dongle takes: open_transport, HCI reset, scan, connect."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakBluetoothNotAvailableError
from bumble.controller import Controller
from bumble.transport import open_transport

from pooldesk.ble import central as central_module
from pooldesk.ble.bumble_backend import BumbleClient, BumbleScanner
from pooldesk.ble.radio import ENV_VAR, Radio, get_virtual_link, radio_from_setting, use_radio
from pooldesk_firmware.sim.blectx import PERIPHERAL, open_peripheral
from tests.ble.echo_app import COMMAND_UUID, SERVICE_UUID, EchoApp
from tests.support.ports import free_port
from tests.support.waiting import wait_until


@pytest.fixture
async def hci_dongle() -> AsyncIterator[str]:
    """A Bumble controller on the virtual link, served as an HCI transport on 127.0.0.1."""
    port = free_port()
    transport = await open_transport(f"tcp-server:127.0.0.1:{port}")
    controller = Controller(
        "dongle", host_source=transport.source, host_sink=transport.sink, link=get_virtual_link()
    )
    try:
        yield f"tcp-client:127.0.0.1:{port}"
    finally:
        await central_module.close_shared_central()
        await transport.close()
        get_virtual_link().remove_controller(controller)


async def test_central_on_a_transport_scans_and_connects(
    farm, hci_dongle: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(ENV_VAR, hci_dongle)
    app = EchoApp("ESP-A1B2C3", b"{}")
    await farm.start("C0:DE:00:A1:B2:C3", "ESP-A1B2C3", app.run)

    found = await BleakScanner.discover(0.3, return_adv=True, backend=BumbleScanner)
    assert found["C0:DE:00:A1:B2:C3"][1].local_name == "ESP-A1B2C3"
    async with BleakClient("C0:DE:00:A1:B2:C3", backend=BumbleClient) as client:
        await client.write_gatt_char(COMMAND_UUID, b"over hci", response=True)
    await wait_until(lambda: app.received, within=5, what="the write at the peripheral")
    assert app.received == [b"over hci"]


def test_radio_setting_parsing():
    assert radio_from_setting(None) == Radio("os")
    assert radio_from_setting(" OS ") == Radio("os")
    assert radio_from_setting("virtual") == Radio("virtual")
    assert radio_from_setting("usb:0") == Radio("transport", "usb:0")
    assert radio_from_setting("serial:/dev/ttyUSB0,1000000").transport == (
        "serial:/dev/ttyUSB0,1000000"
    )
    with pytest.raises(ValueError, match="neither 'virtual', 'os' nor a Bumble transport"):
        radio_from_setting("my dongle!")
    use_radio(Radio("virtual"))
    try:
        assert central_module.current_radio() == Radio("virtual")
    finally:
        use_radio(None)


async def test_simulated_controller_on_a_transport_is_found_and_serves_gatt(farm, hci_dongle: str):
    """A simulated controller may use a real controller (here: over HCI) instead of the
    virtual link; it then advertises with legacy PDUs and a scan response, as an ESP32 does."""
    peripheral = await open_peripheral(hci_dongle, "C0:DE:00:A1:B2:C3", "ESP-A1B2C3")
    app = EchoApp("ESP-A1B2C3", b"{}")
    context = contextvars.copy_context()
    context.run(PERIPHERAL.set, peripheral)
    task = asyncio.get_running_loop().create_task(app.run(), context=context)
    try:
        device = await BleakScanner.find_device_by_filter(
            lambda d, adv: SERVICE_UUID in adv.service_uuids, timeout=3, backend=BumbleScanner
        )
        assert device is not None
        assert device.address == "C0:DE:00:A1:B2:C3"
        async with BleakClient(device, backend=BumbleClient) as client:
            await client.write_gatt_char(COMMAND_UUID, b"via dongle", response=True)
        await wait_until(lambda: app.received, within=5, what="the write at the peripheral")
        assert app.received == [b"via dongle"]
    finally:
        task.cancel()
        await asyncio.wait({task})
        await peripheral.close()


async def test_a_dongle_that_cannot_be_opened_says_so(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(ENV_VAR, f"tcp-client:127.0.0.1:{free_port()}")  # nobody listens
    try:
        with pytest.raises(BleakBluetoothNotAvailableError, match="Check that the dongle"):
            await BleakScanner.discover(0.1, backend=BumbleScanner)
    finally:
        await central_module.close_shared_central()
