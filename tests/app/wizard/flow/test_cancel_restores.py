"""Cancel after the settings were sent: the controller is left as it was (issue 6). Simulated
controllers on the virtual radio, the real backend and its managed Mosquitto."""

from __future__ import annotations

import asyncio

import pytest

from pooldesk.core.failures import Code, failure
from pooldesk.core.provisioning_flow import FlowCancelled, NextStep, Step
from pooldesk_firmware.sim.device import FakeNetwork, default_networks
from tests.app.wizard.conftest import device_ids_on
from tests.support.waiting import assert_nothing_arrives, wait_until

from .test_flow import found_and_selected, new_flow


def cancel_on(flow, state: str, cancelling: list) -> None:
    """The installer clicks Cancel as soon as the controller reports `state`."""

    def progress(p) -> None:
        if p.status is not None and p.status.state == state and not cancelling:
            cancelling.append(asyncio.ensure_future(flow.cancel()))

    flow.on_progress = progress


async def test_cancel_while_connecting_leaves_a_new_controller_unbound(account, controllers):
    [sim] = await controllers(1)
    flow = new_flow(account)
    await found_and_selected(flow, sim)
    await flow.open_session(sim.claim_code)
    await flow.scan_wifi()
    before = sim.stored_config()
    sim.device.wifi_delay_s = 3.0  # the controller is still joining the network...
    cancelling: list = []
    cancel_on(flow, "connecting", cancelling)  # ...when the installer cancels
    with pytest.raises(FlowCancelled):
        await flow.connect("PoolNet", "poolpass123")
    await cancelling[0]

    assert flow.step is Step.CANCELLED
    assert flow.cleanup_problems == []
    assert sim.device_id not in await device_ids_on(account.client)
    assert not sim.controller.bound
    assert sim.stored_config() == before  # the binding was written, and is gone again
    await sim.wait_until(lambda: sim.status[0] == "idle", within=5)
    # the interrupted attempt does not come back: an absence, watched for one join's duration
    await assert_nothing_arrives(
        lambda: sim.online or sim.stored_config() != before,
        within=sim.device.wifi_delay_s + 0.5,
        what="the cancelled join",
    )

    again = new_flow(account)  # it advertises as new, and a new pass starts from the beginning
    found = {c.device_id: c for c in await again.scan(3.0, wanted=sim.device_id)}
    assert found[sim.device_id].bound is False
    await again.select(found[sim.device_id])
    assert not again.info.bound
    await again.close()


async def test_cancel_after_wrong_passwords_undoes_every_attempt(account, controllers):
    [sim] = await controllers(1)
    flow = new_flow(account)
    await found_and_selected(flow, sim)
    await flow.open_session(sim.claim_code)
    before = sim.stored_config()
    assert (await flow.connect("PoolNet", "wrong-password")).reason == "wifi_auth"
    assert (await flow.connect("HiddenPool", "whatever-123")).reason == "wifi_not_found"
    assert sim.stored_config()["binding"]["ssid"] == "HiddenPool"
    await flow.cancel()
    assert flow.cleanup_problems == []
    assert sim.device_id not in await device_ids_on(account.client)
    assert sim.stored_config() == before
    assert not sim.controller.bound


async def _set_up_and_woken(account, sim) -> dict:
    """Set the controller up the ordinary way, then wake its Bluetooth (off while it is online)
    for a second pass; returns its stored configuration."""
    first = new_flow(account)
    await found_and_selected(first, sim)
    await first.open_session(sim.claim_code)
    assert (await first.connect("PoolNet", "poolpass123")).online
    await first.close()
    before = sim.stored_config()
    await sim.hold_button(2)
    return before


async def test_cancel_of_change_wifi_brings_the_old_wifi_back(account, controllers):
    networks = [*default_networks(), FakeNetwork("NewRouter", "fresh-router-9", rssi=-40)]
    [sim] = await controllers(1, networks=networks)
    before = await _set_up_and_woken(account, sim)

    flow = new_flow(account)
    await found_and_selected(flow, sim)
    await flow.open_session(sim.claim_code)
    wrong = await flow.change_wifi("NewRouter", "old-password")
    assert wrong.next_step is NextStep.PASSWORD
    # a failed password never replaces a working binding (docs/provisioning.md section 7)
    assert sim.stored_config() == before
    await flow.cancel()

    assert flow.cleanup_problems == []
    assert sim.stored_config() == before  # PoolNet, and the binding untouched
    await sim.wait_until(lambda: sim.online, within=10)  # back on the old network
    assert sim.device_id in await device_ids_on(account.client)  # it was never this pass's

    async def online_on_account() -> bool:
        [device] = [d for d in await account.client.devices() if d.device_id == sim.device_id]
        return device.status == "online"

    await wait_until(online_on_account, within=10, what="online on the account")


async def test_cancel_after_the_link_dropped_says_what_was_kept(account, controllers):
    [sim] = await controllers(1)
    flow = new_flow(account, connect_timeout=30)
    await found_and_selected(flow, sim)
    await flow.open_session(sim.claim_code)
    sim.device.wifi_delay_s = 5.0
    cut: list = []

    def cut_power(progress) -> None:  # power lost after the binding was stored
        if progress.status is not None and progress.status.state == "connecting" and not cut:
            cut.append(asyncio.ensure_future(sim.power_cut()))

    flow.on_progress = cut_power
    with pytest.raises(Exception, match="pick it again"):
        await flow.connect("PoolNet", "poolpass123")
    await cut[0]
    await flow.cancel()
    # The undo point died with the session: the installer is told, and how to reset it.
    assert flow.cleanup_problems == [failure(Code.KEPT_SETTINGS_LINK_ENDED, device=sim.device_id)]
    assert sim.device_id not in await device_ids_on(account.client)
    assert sim.stored_config()["binding"]["ssid"] == "PoolNet"


async def test_cancel_of_a_second_set_up_keeps_the_controller_online(account, controllers):
    """ "Add device" again on a controller already set up and online ("Continuing replaces its
    settings"): new credentials are fetched, the Wi-Fi password typed is wrong, the installer
    cancels. The controller goes back to its stored settings and login, which still work: it
    is online on the account again, not refused by the broker for good."""
    [sim] = await controllers(1)
    before = await _set_up_and_woken(account, sim)
    flow = new_flow(account)
    await found_and_selected(flow, sim)
    assert flow.info.bound
    await flow.open_session(sim.claim_code)
    wrong = await flow.connect("PoolNet", "wrong-password")  # with freshly issued credentials
    assert wrong.reason == "wifi_auth"
    await flow.cancel()
    assert flow.cleanup_problems == []
    assert sim.stored_config() == before  # its old settings, old login included

    async def online_on_account() -> bool:
        [device] = [d for d in await account.client.devices() if d.device_id == sim.device_id]
        return sim.online and device.status == "online"

    await wait_until(online_on_account, within=20, what="back online on the account")
