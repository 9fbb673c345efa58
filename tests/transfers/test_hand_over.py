"""Hand-over of a controller to another account, whole (docs/sharing.md "Hand-over"): the
backend app in-process with its managed Mosquitto and recorder, two accounts over HTTP, their
dashboard logins, and the simulated controller running the unchanged firmware."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pooldesk_firmware.sim.runner import SimulatedController
from tests.broker.probe import REFUSED_SUBSCRIBE
from tests.transfers.conftest import Hand

pytestmark = pytest.mark.timeout(180)


async def _two_owners(hand: Hand, tmp_path: Path, index: int, online: bool = True):
    """Ann owns a bound, running controller; Ben has an account (and another device)."""
    sim = SimulatedController(tmp_path / "unit", index=index)
    ann = await hand.account(f"ann{index}", sim.device_id)
    ben = await hand.account(f"ben{index}", f"ESP-B0B0{index:02X}")
    sim._write_binding(await hand.binding(ann, sim.device_id, f"ann{index}"))
    if online:
        await sim.start()
        await sim.wait_until(lambda: sim.online, 15)
    return sim, ann, ben


async def _history_ids(hand: Hand, auth: dict, device_id: str) -> set[int]:
    r = await hand.history(auth, device_id)
    assert r.status_code == 200, r.text
    return {e["id"] for e in r.json()["events"]}


@pytest.mark.parametrize("history", ["keep", "clear"])
async def test_the_new_owner_gets_the_controller_and_the_old_owner_loses_it(
    hand: Hand, tmp_path: Path, history: str
) -> None:
    sim, ann, ben = await _two_owners(hand, tmp_path, 1 if history == "keep" else 2)
    index = 1 if history == "keep" else 2
    name_ann, name_ben, did = f"ann{index}", f"ben{index}", sim.device_id
    old_prefix = f"users/{name_ann}/devices/{did.lower()}"
    new_prefix = f"users/{name_ben}/devices/{did.lower()}"
    # Ann switches the pump; her history has the device's events.
    ann_dash = await hand.dashboard(ann, f"users/{name_ann}/devices/+/pump/state")
    assert await hand.switch(ann_dash, old_prefix, True, "ann-1") == 0
    await sim.wait_until(lambda: sim.relay_on)
    await ann_dash.wait_for(f"{old_prefix}/pump/state")
    before = await _history_ids(hand, ann, did)
    assert before

    r = await hand.offer(ann, did, name_ben, history)
    assert r.status_code == 201, r.text
    offered = r.json()["transfer"]
    assert (offered["status"], offered["from"], offered["to"]) == ("offered", name_ann, name_ben)
    assert (await hand.transfers(ben))["incoming"][0]["id"] == offered["id"]
    r = await hand.http.post(f"/api/transfers/{offered['id']}/accept", headers=ben)
    assert r.status_code == 202, r.text
    assert r.json()["transfer"]["status"] == "moving"

    done = await hand.wait_transfer(ann, offered["id"], ("done", "failed", "cancelled"))
    assert done["status"] == "done", done
    assert sim.stored_config()["binding"]["topic_prefix"] == new_prefix

    # Ann: the device is gone from her account, her dashboard login reads nothing of it.
    assert [d["deviceId"] for d in await hand.devices(ann)] == []
    assert (await hand.history(ann, did)).status_code == 404
    ann_again = await hand.dashboard(ann)
    assert (await ann_again.subscribe(f"{new_prefix}/#"))[0] in REFUSED_SUBSCRIBE
    assert (await ann_again.subscribe(f"{new_prefix}/pump/state"))[0] in REFUSED_SUBSCRIBE
    assert await ann_again.publish(f"{new_prefix}/pump/set", b'{"cmd_id":"x","on":false}') != 0

    # Ben: listed with the new prefix, sees the state, switches the pump.
    (mine,) = [d for d in await hand.devices(ben) if d["deviceId"] == did]
    assert mine["topicPrefix"] == new_prefix
    ben_dash = await hand.dashboard(ben, f"users/{name_ben}/devices/+/pump/state")
    state = json.loads((await ben_dash.wait_for(f"{new_prefix}/pump/state"))[0].payload)
    assert state["on"] is True
    assert await hand.switch(ben_dash, new_prefix, False, "ben-1") == 0
    await sim.wait_until(lambda: not sim.relay_on)
    await ben_dash.wait_for(f"{new_prefix}/pump/state", count=2)

    # History stays with the device, or is gone, as Ann chose.
    kept = await _history_ids(hand, ben, did)
    if history == "keep":
        assert before <= kept
    else:
        assert not before & kept

    await sim.stop()
