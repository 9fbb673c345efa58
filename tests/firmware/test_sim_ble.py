"""Done means: the simulator brings up a controller that a test client provisions over Bumble's
virtual radio, which then goes online on the real broker and obeys pump commands."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

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
from pooldesk_firmware.sim.runner import start_devices
from tests.firmware.conftest import PREFIX, make_binding
from tests.support.notification_order import NotificationOrder

GAP_DEVICE_NAME = "00002a00-0000-1000-8000-00805f9b34fb"


@pytest.fixture
async def virtual_radio(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[object]:
    monkeypatch.setenv(ENV_VAR, "virtual")
    use_radio(None)
    try:
        yield get_virtual_link()
    finally:
        await central_module.close_shared_central()


async def scan() -> dict:
    found = await BleakScanner.discover(
        0.6, return_adv=True, backend=BumbleScanner, service_uuids=[SERVICE_UUID]
    )
    listed = {}
    for device, adv in found.values():
        data = adv.manufacturer_data.get(0xFFFF)
        parsed = parse_manufacturer_data(data) if data is not None else None
        if parsed:
            listed[parsed[0]] = device
    return listed


async def test_provision_over_the_virtual_radio_then_obey_pump_commands(
    tmp_path, virtual_radio, broker, dashboard
):
    # the shared link the app side uses (get_virtual_link(), as the fixture yields)
    async with start_devices(2, tmp_path, link=virtual_radio) as (sim, other):
        listed = await scan()
        assert {"ESP-A1B2C3", "ESP-A1B2C4"} <= set(listed)
        async with open_gatt_link(listed["ESP-A1B2C3"]) as gatt:
            link = NotificationOrder(gatt)
            client = ProvisioningClient(link, timeout=5)
            info = await client.device_info()
            assert info.device_id == "ESP-A1B2C3"
            assert not info.bound
            with pytest.raises(WrongClaimCode):
                await client.open_session("AAAAAAAAAAAAAAAA")
            await client.open_session(sim.claim_code)
            ssids = [n.ssid for n in await client.scan_wifi()]
            assert ssids[0] == "PoolNet"  # strongest first, from the device's own scan
            binding = Binding(
                ssid="PoolNet",
                password="wrong-password",
                broker_url=f"mqtt://127.0.0.1:{broker}",
                mqtt_user="",
                mqtt_password="",
                client_id="esp-a1b2c3",
                topic_prefix=PREFIX,
                username="john",
            )
            mark = len(link.endpoints)
            failed = await client.send_binding(binding, wait=True, timeout_s=8)
            assert failed is not None
            assert failed.reason == "wifi_auth"
            # the answer first, then what the attempt with these settings reports
            assert link.since(mark) == ["prov-config", "prov-status"]
            fixed = Binding(**{**binding.to_json(), "password": "poolpass123"})
            done = await client.send_binding(fixed, wait=True, timeout_s=8)
            assert done is not None
            assert done.state == "mqtt_connected"
            await client.close()
        assert sim.device.boots == 1  # corrected in the same session, no reboot
        assert not other.controller.bound

        await dashboard.wait_for("status", lambda p: p == b"online")
        dashboard.command("pump/set", {"cmd_id": "BLE-1", "on": True})
        state = await dashboard.wait_state(lambda s: s["cmd_id"] == "BLE-1")
        assert state["on"]
        assert sim.relay_on
        assert not other.relay_on
        stored = sim.stored_config()["binding"]
        assert stored["password"] == "poolpass123"
        assert stored["topic_prefix"] == PREFIX
        assert json.loads(await dashboard.wait_for("pump/state"))["mode"] in ("schedule", "manual")


async def advertising(device_id: str) -> bool:
    return device_id in await scan()


async def test_bluetooth_goes_off_once_bound_and_online_and_a_short_press_wakes_it(
    tmp_path, virtual_radio, broker, dashboard
):
    async with start_devices(1, tmp_path, link=virtual_radio, binding=make_binding(broker)) as (
        sim,
    ):
        await dashboard.wait_for("status", lambda p: p == b"online")
        # bound and online: the radio is off (its memory goes to TLS); nobody can connect
        await sim.wait_until(lambda: not sim.controller.provisioning.radio_on, within=5)
        assert not await advertising(sim.device_id)

        await sim.hold_button(2)  # a short press: Bluetooth back on for a Wi-Fi change
        assert sim.online
        assert sim.device.boots == 1
        listed = await scan()
        assert sim.device_id in listed
        async with open_gatt_link(listed[sim.device_id]) as link:
            gap_name = await link.client.read_gatt_char(GAP_DEVICE_NAME)
            assert gap_name.decode() == sim.device_id  # not "MPY ESP32"
            client = ProvisioningClient(link, timeout=5)
            assert (await client.device_info()).bound
            await client.open_session(sim.claim_code)
            assert (await client.status()).state == "mqtt_connected"
            await client.close()
        # the session is over and the unit is online: off again
        await sim.wait_until(lambda: not sim.controller.provisioning.radio_on, within=5)
        assert not await advertising(sim.device_id)
