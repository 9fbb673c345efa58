"""The device's Bluetooth glue (pooldesk_firmware/device/prov.py) and the client, over the virtual
radio.

The device side runs the firmware's `Provisioning` on the simulator's `bluetooth` stand-in;
the client reaches it through bleak (Bumble back end) and the bleak GattLink.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator
from typing import Any

import pytest
from bleak import BleakScanner

from pooldesk.ble import central as central_module
from pooldesk.ble.bumble_backend import BumbleScanner
from pooldesk.ble.link import open_gatt_link
from pooldesk.ble.radio import ENV_VAR, get_virtual_link, use_radio
from pooldesk.provisioning import (
    SERVICE_UUID,
    Binding,
    ProvisioningClient,
    WrongClaimCode,
    parse_manufacturer_data,
)
from pooldesk_firmware.sim.blectx import PERIPHERAL, open_peripheral

from .device_side import FIRMWARE
from .table_host import Network, TableHost

CODE = "KQ4M7XTZ2PB6WRHD"


def import_prov() -> Any:
    """The firmware's prov module, with the simulator's `bluetooth` stand-in."""
    return FIRMWARE.module("prov")


class Controller:
    def __init__(self, device_id: str, address: str) -> None:
        self.device_id = device_id
        self.address = address
        self.host = TableHost(
            device_id=device_id,
            claim_code=CODE,
            networks={"PoolHouse": Network("right-password", -45)},
            broker_logins={"dev": "mqtt-secret"},
        )


@pytest.fixture
async def radio(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[Controller]]:
    monkeypatch.setenv(ENV_VAR, "virtual")
    use_radio(None)
    prov = import_prov()
    started: list[tuple[Any, asyncio.Task[Any], Controller]] = []
    controllers: list[Controller] = []
    for device_id, address in (
        ("ESP-A1B2C3", "C0:DE:00:A1:B2:C3"),
        ("ESP-0D0E0F", "C0:DE:00:0D:0E:0F"),
    ):
        peripheral = await open_peripheral(get_virtual_link(), address, device_id)
        controller = Controller(device_id, address)
        context = contextvars.copy_context()
        context.run(PERIPHERAL.set, peripheral)
        provisioning = prov.Provisioning(controller.host, adv_interval_us=20_000)
        task = asyncio.get_running_loop().create_task(provisioning.run(), context=context)
        started.append((peripheral, task, controller))
        controllers.append(controller)
    try:
        yield controllers
    finally:
        # Let a just-disconnected device settle into advertising again: cancelling the
        # stand-in's advertise() in that instant can hang its stop_advertising (reported).
        await asyncio.sleep(0.5)
        for peripheral, task, controller in started:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await controller.host.aclose()
            await peripheral.close()
        await central_module.close_shared_central()


async def test_scan_identify_and_provision_over_the_virtual_radio(radio):
    found = await BleakScanner.discover(
        0.5, return_adv=True, backend=BumbleScanner, service_uuids=[SERVICE_UUID]
    )
    listed = {}
    for device, adv in found.values():
        data = adv.manufacturer_data.get(0xFFFF)
        if data is not None and parse_manufacturer_data(data):
            listed[parse_manufacturer_data(data)[0]] = device
    assert set(listed) >= {"ESP-A1B2C3", "ESP-0D0E0F"}
    target, other = radio
    async with open_gatt_link(listed["ESP-A1B2C3"]) as link:
        client = ProvisioningClient(link, timeout=5)
        info = await client.device_info()
        assert info.device_id == "ESP-A1B2C3"
        assert not info.bound
        await client.identify(3)
        assert target.host.identified == [3]
        assert other.host.identified == []
        with pytest.raises(WrongClaimCode):
            await client.open_session("AAAAAAAAAAAAAAAA")
        await client.open_session(CODE)
        assert [n.ssid for n in await client.scan_wifi()] == ["PoolHouse"]
        binding = Binding(
            ssid="PoolHouse",
            password="wrong-password",
            broker_url="mqtt://127.0.0.1:1883",
            mqtt_user="dev",
            mqtt_password="mqtt-secret",
            client_id="esp-a1b2c3",
            topic_prefix="users/alice/devices/esp-a1b2c3",
            username="alice",
        )
        failed = await client.send_binding(binding, wait=True, timeout_s=5)
        assert failed is not None
        assert failed.reason == "wifi_auth"
        fixed = Binding(**{**binding.to_json(), "password": "right-password"})
        done = await client.send_binding(fixed, wait=True, timeout_s=5)
        assert done is not None
        assert done.state == "mqtt_connected"
        assert (await client.device_info()).bound
        await client.close()
    assert target.host.binding is not None
    assert target.host.binding["password"] == "right-password"
    assert other.host.binding is None


def test_advertising_payloads_keep_the_documented_bytes():
    """docs/provisioning.md §1, byte for byte (the layout the first firmware sent)."""
    prov = import_prov()
    adv, resp = prov.advertising_payloads("ESP-A1B2C3", False)
    assert adv == bytes.fromhex("020106 1107 91ebed8ed9c483af0a46f2a0131c2796")
    assert resp == bytes.fromhex("0b09 4553502d413142324333 0aff ffff 5044 01 00 a1b2c3")
    _, bound = prov.advertising_payloads("ESP-0D0E0F", True)
    assert bound.endswith(bytes.fromhex("5044 01 01 0d0e0f"))
    assert len(adv) <= 31
    assert len(resp) <= 31


async def test_a_radio_short_of_notification_buffers_still_answers_everything(
    radio, monkeypatch: pytest.MonkeyPatch
):
    """gatts_notify raises OSError when the stack's buffers are full (one 20-byte frame
    here): prov.py waits and retries, so every answer still arrives, in order."""
    bluetooth = FIRMWARE.module("bluetooth")
    monkeypatch.setattr(bluetooth, "TX_POOL_BYTES", 40)
    refused: list[int] = []
    send = bluetooth.BLE._send_notification

    def counting(self, conn_handle, value_handle, payload):  # type: ignore[no-untyped-def]
        try:
            send(self, conn_handle, value_handle, payload)
        except OSError:
            refused.append(value_handle)
            raise

    monkeypatch.setattr(bluetooth.BLE, "_send_notification", counting)
    target, _ = radio
    async with open_gatt_link(target.address, mtu=23) as link:
        assert link.mtu == 23
        client = ProvisioningClient(link, timeout=5)
        await client.open_session(CODE)
        assert [n.ssid for n in await client.scan_wifi()] == ["PoolHouse"]
        assert (await client.device_info()).device_id == "ESP-A1B2C3"
        await client.close()
    assert refused  # the stack did run out, and nothing was lost
