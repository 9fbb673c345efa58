"""A simulated controller (the firmware on the simulator) provisioned by the provisioning
client through bleak on the Bumble back end, over the virtual radio: all three parts at once."""

from __future__ import annotations

import asyncio

from pooldesk.ble.link import open_gatt_link
from pooldesk.ble.radio import get_virtual_link
from pooldesk.ble.scan import scan_for_controllers
from pooldesk.provisioning import Binding, ProvisioningClient, WrongClaimCode
from pooldesk_firmware.sim.runner import start_devices
from tests.support.waiting import wait_until


async def test_scan_identify_session_wifi_scan_and_a_wrong_password_reported(
    tmp_path, virtual_radio
):
    async with start_devices(2, tmp_path, link=get_virtual_link()) as (sim, other):
        wanted = {sim.device_id, other.device_id}
        found = await scan_for_controllers(3.0, stop_when=lambda seen: wanted <= set(seen))
        listed = {c.device_id: c for c in found}
        assert set(listed) == wanted
        assert listed[sim.device_id].bound is False

        async with open_gatt_link(listed[sim.device_id].ble_device) as link:
            client = ProvisioningClient(link, timeout=5)
            info = await client.device_info()
            assert info.device_id == sim.device_id
            assert not info.bound
            try:
                await client.open_session("AAAAAAAAAAAAAAAA")
            except WrongClaimCode:
                pass
            else:
                raise AssertionError("a wrong claim code opened a session")
            await client.open_session(sim.claim_code)
            networks = await client.scan_wifi()
            assert networks
            assert networks[0].ssid == "PoolNet"
            binding = Binding(
                ssid="PoolNet",
                password="not-the-password",
                broker_url="mqtt://127.0.0.1:9",
                mqtt_user="dev-esp",
                mqtt_password="secret",
                client_id="esp",
                topic_prefix="users/john/devices/esp",
                username="john",
            )
            status = await client.send_binding(binding, wait=True, timeout_s=10)
            assert status is not None
            assert status.state == "failed"
            assert status.reason == "wifi_auth"
            await client.close()
        # The wrong password was reported in the same session, without a reboot.
        assert sim.device.boots == 1
        assert not other.controller.bound


async def test_everything_closes_cleanly(tmp_path, virtual_radio):
    """After the controllers, the links and the central are closed, nothing of the radio is
    left: no task, no timer (an advertising timer would fire into a closed loop)."""
    loop = asyncio.get_running_loop()
    async with start_devices(1, tmp_path, link=get_virtual_link()) as (_sim,):
        [controller] = await scan_for_controllers(3.0, stop_when=lambda seen: len(seen) == 1)
        async with open_gatt_link(controller.ble_device) as link:
            await ProvisioningClient(link, timeout=5).device_info()
    from pooldesk.ble.central import close_shared_central

    await close_shared_central()
    await wait_until(lambda: get_virtual_link().controllers == set(), 5, "the controller gone")
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert others == []
    live_timers = [h for h in loop._scheduled if not h.cancelled()]  # type: ignore[attr-defined]
    assert live_timers == []
