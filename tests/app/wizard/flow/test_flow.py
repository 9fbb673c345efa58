"""The Qt-free provisioning flow on a plain asyncio loop: simulated controllers on the virtual
radio, the real backend and its managed Mosquitto, nothing stood in."""

from __future__ import annotations

import asyncio

import pytest

from pooldesk.core.provisioning_flow import (
    FlowCancelled,
    NextStep,
    ProvisioningFlow,
    Step,
)
from pooldesk.provisioning import (
    InvalidClaimCode,
    LinkError,
    ProvisioningTimeout,
    RetryLater,
    WrongClaimCode,
)
from pooldesk_firmware.sim.device import FakeNetwork, default_networks
from tests.app.wizard.conftest import device_ids_on


def new_flow(account, steps: list | None = None, **kwargs) -> ProvisioningFlow:
    def record(progress) -> None:
        if steps is not None:
            steps.append(progress)

    return ProvisioningFlow(account.client, account.username, on_progress=record, **kwargs)


async def found_and_selected(flow: ProvisioningFlow, sim) -> None:
    found = await flow.scan(3.0, wanted=sim.device_id)
    [picked] = [c for c in found if c.device_id == sim.device_id]
    info = await flow.select(picked)
    assert info.device_id == sim.device_id


async def test_scan_to_online_on_the_account(account, controllers) -> None:
    [sim] = await controllers(1)
    steps: list = []
    flow = new_flow(account, steps)
    found = await flow.scan(3.0, wanted=sim.device_id)
    listed = {c.device_id: c for c in found}
    assert listed[sim.device_id].bound is False
    assert any(p.fraction is not None for p in steps), "scan progress was reported"

    await flow.select(listed[sim.device_id])
    assert flow.step is Step.CLAIM
    assert not flow.info.bound
    await flow.open_session(sim.claim_code)
    networks = await flow.scan_wifi()
    assert [n.ssid for n in networks][:1] == ["PoolNet"]  # the controller's own scan
    outcome = await flow.connect("PoolNet", "poolpass123", name="Back garden")
    assert outcome.online
    assert outcome.ip
    await flow.close()

    assert sim.online
    [device] = [d for d in await account.client.devices() if d.device_id == sim.device_id]
    assert device.name == "Back garden"
    assert device.status == "online"
    seen = [p.status.state for p in steps if p.status is not None]
    assert seen[-1] == "mqtt_connected"
    assert "wifi_connected" in seen
    assert [s for s, _ in flow.timings][:3] == [Step.IDLE, Step.SCANNING, Step.PICK]


async def test_wrong_claim_code_says_so_and_the_right_one_still_works(account, controllers):
    [sim] = await controllers(1)
    flow = new_flow(account)
    await found_and_selected(flow, sim)
    with pytest.raises(InvalidClaimCode):  # refused before any radio traffic
        await flow.open_session("not a code")
    wrong = "A" * 16 if sim.claim_code != "A" * 16 else "B" * 16
    with pytest.raises(WrongClaimCode) as refused:
        await flow.open_session(wrong)
    assert "does not match this controller" in str(refused.value)
    assert flow.step is Step.CLAIM
    await flow.open_session("-".join(sim.claim_code[i : i + 4] for i in range(0, 16, 4)))
    assert flow.step is Step.WIFI_SCAN
    await flow.close()


async def test_repeated_wrong_codes_slow_down_but_never_lock_out(account, controllers) -> None:
    [sim] = await controllers(1)
    flow = new_flow(account)
    await found_and_selected(flow, sim)
    wrong = "A" * 16 if sim.claim_code != "A" * 16 else "B" * 16
    for _ in range(2):
        with pytest.raises(WrongClaimCode):
            await flow.open_session(wrong)
    with pytest.raises(WrongClaimCode) as third:
        await flow.open_session(wrong)
    assert third.value.retry_after == pytest.approx(2, abs=0.1)
    assert "try again in 2 seconds" in str(third.value)
    with pytest.raises(RetryLater) as waiting:  # even the right code waits its turn
        await flow.open_session(sim.claim_code)
    assert "Wait 2 seconds" in str(waiting.value)
    sim.device.clock.advance(3)
    await flow.open_session(sim.claim_code)
    await flow.close()


async def test_controller_losing_power_midway_then_picked_again(account, controllers) -> None:
    [sim] = await controllers(1)
    flow = new_flow(account)
    await found_and_selected(flow, sim)
    await flow.open_session(sim.claim_code)
    wrong = await flow.connect("PoolNet", "wrong-password")  # registered, not online yet
    assert wrong.reason == "wifi_auth"
    assert flow.device_registered_here
    await sim.power_cut()
    with pytest.raises((LinkError, ProvisioningTimeout)) as lost:
        await flow.connect("PoolNet", "poolpass123")
    assert "pick it again" in str(lost.value) or "try again" in str(lost.value)

    await sim.power_on()
    await found_and_selected(flow, sim)
    await flow.open_session(sim.claim_code)
    assert (await flow.connect("PoolNet", "poolpass123")).online
    await flow.close()
    assert [d for d in await device_ids_on(account.client) if d == sim.device_id]


async def test_link_lost_while_waiting_for_status_is_reported_at_once(account, controllers):
    [sim] = await controllers(1)
    flow = new_flow(account, connect_timeout=30)
    await found_and_selected(flow, sim)
    await flow.open_session(sim.claim_code)
    sim.device.wifi_delay_s = 5.0  # the controller is slow to join the network...

    cuts: list[asyncio.Future] = []

    def cut_power(progress) -> None:  # ...and loses power while it tries
        if progress.status is not None and progress.status.state == "connecting":
            cuts.append(asyncio.ensure_future(sim.power_cut()))

    flow.on_progress = cut_power
    started = asyncio.get_running_loop().time()
    with pytest.raises(LinkError, match="pick it again"):
        await flow.connect("PoolNet", "poolpass123")
    assert asyncio.get_running_loop().time() - started < 5
    await flow.cancel()
    assert sim.device_id not in await device_ids_on(account.client)


async def test_wrong_password_then_network_not_found_then_online(account, controllers):
    [sim] = await controllers(1)
    flow = new_flow(account)
    await found_and_selected(flow, sim)
    await flow.open_session(sim.claim_code)
    await flow.scan_wifi()

    wrong = await flow.connect("PoolNet", "not-the-password")
    assert not wrong.online
    assert wrong.reason == "wifi_auth"
    assert wrong.next_step is NextStep.PASSWORD
    assert "password" in wrong.advice
    assert sim.device_id in await device_ids_on(account.client)  # registered once, kept

    gone = await flow.connect("HiddenPool", "whatever-123")  # "other network" by name
    assert gone.reason == "wifi_not_found"
    assert gone.next_step is NextStep.RESCAN

    await flow.scan_wifi()
    right = await flow.connect("PoolNet", "poolpass123")
    assert right.online
    await flow.close()
    assert sim.device.boots == 1  # corrected in the same session, no reset


async def test_refused_broker_login_gets_fresh_credentials(account, controllers) -> None:
    [sim] = await controllers(1)
    await account.client.add_device(sim.device_id, None, sim.claim_code)
    stale = await account.client.device_credentials(sim.device_id)
    # Its login ends (a rotated one goes only once the device used its successor, so here:
    # removed and added again from another app), the broker refuses it from now on.
    await account.client.remove_device(sim.device_id)
    await account.client.add_device(sim.device_id, None, sim.claim_code)
    steps: list = []
    flow = new_flow(account, steps)
    await found_and_selected(flow, sim)
    await flow.open_session(sim.claim_code)
    flow._credentials = stale  # as if issued earlier in this pass, then ended elsewhere
    outcome = await flow.connect("PoolNet", "poolpass123")
    await flow.close()
    reasons = [p.status.reason for p in steps if p.status is not None and p.status.failed]
    assert reasons == ["broker_auth"]
    assert outcome.online
    assert not flow.device_registered_here  # it was on the account before the pass


async def test_cancel_after_registering_leaves_no_trace(account, controllers) -> None:
    [sim] = await controllers(1)
    flow = new_flow(account)
    cancelling: list[asyncio.Future] = []

    def cancel_when_registered(progress) -> None:  # the installer clicks Cancel right then
        if progress.step is Step.CREDENTIALS and not cancelling:
            assert flow.device_registered_here
            cancelling.append(asyncio.ensure_future(flow.cancel()))

    await found_and_selected(flow, sim)
    await flow.open_session(sim.claim_code)
    await flow.scan_wifi()
    flow.on_progress = cancel_when_registered
    with pytest.raises(FlowCancelled):
        await flow.connect("PoolNet", "poolpass123")
    await cancelling[0]
    assert flow.step is Step.CANCELLED
    assert flow.cleanup_problems == []
    assert sim.device_id not in await device_ids_on(account.client)
    assert not sim.controller.bound
    assert sim.stored_config().get("binding") is None

    # The controller is as it was: a new pass sets it up from the start.
    again = new_flow(account)
    await found_and_selected(again, sim)
    assert not again.info.bound
    await again.open_session(sim.claim_code)
    await again.close()


async def test_cancel_after_a_failed_attempt_removes_the_device(account, controllers) -> None:
    [sim] = await controllers(1)
    flow = new_flow(account)
    await found_and_selected(flow, sim)
    await flow.open_session(sim.claim_code)
    outcome = await flow.connect("PoolNet", "wrong-password")
    assert outcome.reason == "wifi_auth"
    await flow.cancel()
    assert sim.device_id not in await device_ids_on(account.client)
    with pytest.raises(Exception, match="over"):
        await flow.scan_wifi()


async def test_change_wifi_of_a_bound_controller_keeps_its_binding(account, controllers):
    networks = [*default_networks(), FakeNetwork("NewRouter", "fresh-router-9", rssi=-40)]
    [sim] = await controllers(1, networks=networks)
    first = new_flow(account)
    await found_and_selected(first, sim)
    await first.open_session(sim.claim_code)
    assert (await first.connect("PoolNet", "poolpass123")).online
    await first.close()
    before = sim.stored_config()["binding"]
    await sim.hold_button(2)  # Bluetooth is off on an online controller: the button wakes it

    flow = new_flow(account)
    await found_and_selected(flow, sim)
    assert flow.info.bound
    await flow.open_session(sim.claim_code)
    assert "NewRouter" in [n.ssid for n in await flow.scan_wifi()]
    wrong = await flow.change_wifi("NewRouter", "old-password")
    assert wrong.next_step is NextStep.PASSWORD
    outcome = await flow.change_wifi("NewRouter", "fresh-router-9")
    await flow.close()
    assert outcome.online
    assert sim.online
    after = sim.stored_config()["binding"]
    assert after["ssid"] == "NewRouter"
    unchanged = ("mqtt_user", "mqtt_password", "client_id", "topic_prefix", "broker_url")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert not flow.device_registered_here
