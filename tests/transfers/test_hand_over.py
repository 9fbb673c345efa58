"""Hand-over of a controller to another account, whole (docs/sharing.md "Hand-over"): the
backend app in-process with its managed Mosquitto and recorder, two accounts over HTTP, their
dashboard logins, and the simulated controller running the unchanged firmware."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from pooldesk_firmware.sim.runner import SimulatedController
from tests.broker.probe import REFUSED_SUBSCRIBE
from tests.support.threads import backend_paho_threads
from tests.transfers.conftest import Hand, open_hand

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


async def _boot_events(hand: Hand, auth: dict, device_id: str) -> list[dict]:
    """The device's `boot` events in its history: one per start, so one from before the
    hand-over (the controller does not restart when it moves)."""
    r = await hand.history(auth, device_id)
    assert r.status_code == 200, r.text
    events = r.json()["events"]
    return [e for e in events if e["type"] == "event" and e["data"].get("type") == "boot"]


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
    before = await _boot_events(hand, ann, did)
    for _ in range(200):  # the recorder writes in batches
        if before:
            break
        await asyncio.sleep(0.05)
        before = await _boot_events(hand, ann, did)
    assert len(before) == 1

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
    kept = await _boot_events(hand, ben, did)
    assert kept == (before if history == "keep" else [])

    await sim.stop()


async def _delivered_login(hand: Hand, transfer_id: str) -> str:
    """The new device login once its binding is on the broker (the mover's table)."""
    from sqlalchemy import select

    from pooldesk_server.db.models import Transfer

    ctx = hand.mover._ctx
    assert ctx is not None
    for _ in range(600):
        async with ctx.db.read() as db:
            t = await db.scalar(select(Transfer).where(Transfer.id == transfer_id))
        if t is not None and t.delivered_at is not None and t.new_login:
            return t.new_login
        await asyncio.sleep(0.05)
    raise AssertionError("the new binding was never delivered")


async def _offered_and_accepted(hand: Hand, ann: dict, ben: dict, did: str, to: str) -> dict:
    r = await hand.offer(ann, did, to)
    assert r.status_code == 201, r.text
    tid = r.json()["transfer"]["id"]
    r = await hand.http.post(f"/api/transfers/{tid}/accept", headers=ben)
    assert r.status_code == 202, r.text
    return r.json()["transfer"]


async def test_an_offline_controller_moves_when_it_next_connects(hand: Hand, tmp_path: Path):
    sim, ann, ben = await _two_owners(hand, tmp_path, 3, online=False)
    moving = await _offered_and_accepted(hand, ann, ben, sim.device_id, "ben3")
    assert (moving["status"], moving["reason"]) == ("moving", "device_offline")
    await _delivered_login(hand, moving["id"])
    assert (await hand.wait_transfer(ben, moving["id"], ("moving",)))["reason"] == "device_offline"
    # The mover's connection is up, driven by the backend's loop: no paho thread of its own.
    assert hand.mover.channel is not None
    assert hand.mover.channel.connected
    assert backend_paho_threads() == []
    async with sim:
        done = await hand.wait_transfer(ben, moving["id"], ("done", "failed"))
        assert done["status"] == "done", done
        (mine,) = [d for d in await hand.devices(ben) if d["deviceId"] == sim.device_id]
        assert mine["topicPrefix"] == f"users/ben3/devices/{sim.device_id.lower()}"


async def test_a_refused_login_fails_the_transfer_and_the_old_owner_keeps_the_controller(
    hand: Hand, tmp_path: Path
):
    sim, ann, ben = await _two_owners(hand, tmp_path, 4, online=False)
    moving = await _offered_and_accepted(hand, ann, ben, sim.device_id, "ben4")
    # The broker no longer knows the new login by the time the controller tries it.
    await hand.broker.delete_login(await _delivered_login(hand, moving["id"]))
    async with sim:
        failed = await hand.wait_transfer(ann, moving["id"], ("done", "failed"))
        assert (failed["status"], failed["reason"]) == ("failed", "refused")
        assert (
            sim.stored_config()["binding"]["topic_prefix"]
            == f"users/ann4/devices/{sim.device_id.lower()}"
        )
        assert [d["deviceId"] for d in await hand.devices(ann)] == [sim.device_id]
        await sim.wait_until(lambda: sim.online, 15)
        dash = await hand.dashboard(ann)
        prefix = f"users/ann4/devices/{sim.device_id.lower()}"
        assert await hand.switch(dash, prefix, True, "ann-4") == 0
        await sim.wait_until(lambda: sim.relay_on)


@pytest.mark.parametrize("who", ["owner", "recipient"])
async def test_either_side_cancels_and_the_controller_stays(hand: Hand, tmp_path: Path, who: str):
    index = 5 if who == "owner" else 6
    sim, ann, ben = await _two_owners(hand, tmp_path, index, online=False)
    moving = await _offered_and_accepted(hand, ann, ben, sim.device_id, f"ben{index}")
    new_login = await _delivered_login(hand, moving["id"])
    r = await hand.http.delete(
        f"/api/transfers/{moving['id']}", headers=ann if who == "owner" else ben
    )
    assert r.status_code == 200, r.text
    assert r.json()["transfer"]["status"] == "cancelled"
    again = await hand.http.delete(f"/api/transfers/{moving['id']}", headers=ann)
    assert again.status_code == 409
    async with sim:  # the withdrawn binding never reaches it: it stays Ann's
        await sim.wait_until(lambda: sim.online, 15)
        dash = await hand.dashboard(ann)
        prefix = f"users/ann{index}/devices/{sim.device_id.lower()}"
        assert await hand.switch(dash, prefix, True, f"ann-{index}") == 0
        await sim.wait_until(lambda: sim.relay_on)
        assert sim.stored_config()["binding"]["topic_prefix"] == prefix
        # Heard from on its old prefix: the login it never took is deleted.
        for _ in range(200):
            if new_login not in await hand.rows():
                break
            await asyncio.sleep(0.1)
        assert new_login not in await hand.rows()
    assert [d["deviceId"] for d in await hand.devices(ann)] == [sim.device_id]
    # A cancelled transfer can be offered again.
    assert (await hand.offer(ann, sim.device_id, f"ben{index}")).status_code == 201


async def test_http_refusals_are_clear(hand: Hand, tmp_path: Path):
    sim, ann, ben = await _two_owners(hand, tmp_path, 7, online=False)
    did = sim.device_id
    cases = [
        (ben, did, "ann7", "keep", 404, f"Device {did} not found"),  # not the owner
        (ann, did, "nobody7", "keep", 404, "No account named nobody7"),
        (ann, did, "ann7", "keep", 400, "already yours"),
        (ann, did, "ben7", "sometimes", 400, '"keep" or "clear"'),
    ]
    for auth, device_id, to, history, status, message in cases:
        r = await hand.offer(auth, device_id, to, history)
        assert r.status_code == status, r.text
        assert message in r.json()["error"]["message"]
    r = await hand.http.post(f"/api/devices/{did}/transfer", json={"history": "keep"}, headers=ann)
    assert r.status_code == 400
    assert "username" in r.json()["error"]["message"]
    first = await hand.offer(ann, did, "ben7")
    assert first.status_code == 201
    second = await hand.offer(ann, did, "ben7", "clear")
    assert second.status_code == 409
    assert "open transfer" in second.json()["error"]["message"]
    assert second.json()["error"]["reason"] == "transfer_open"
    tid = first.json()["transfer"]["id"]
    # Only the recipient accepts; a stranger sees nothing of it.
    assert (await hand.http.post(f"/api/transfers/{tid}/accept", headers=ann)).status_code == 404
    carl = await hand.account("carl7", "ESP-C0C0C7")
    assert (await hand.http.post(f"/api/transfers/{tid}/accept", headers=carl)).status_code == 404
    assert (await hand.http.delete(f"/api/transfers/{tid}", headers=carl)).status_code == 404
    assert (await hand.transfers(carl)) == {"ok": True, "outgoing": [], "incoming": []}
    assert (await hand.http.post("/api/transfers/nope/accept", headers=ben)).status_code == 404
    assert (await hand.http.get("/api/transfers")).status_code == 401


async def test_a_restarted_server_finishes_the_hand_over(backend_dir: Path, tmp_path: Path):
    """The mover's state is in the database: a transfer accepted before a restart completes
    after it, when the (offline) controller connects and answers."""
    async with open_hand(backend_dir) as hand:
        sim, ann, ben = await _two_owners(hand, tmp_path, 8, online=False)
        moving = await _offered_and_accepted(hand, ann, ben, sim.device_id, "ben8")
        await _delivered_login(hand, moving["id"])
    async with open_hand(backend_dir) as hand:
        ben = await hand.sign_in("ben8")
        async with sim:
            done = await hand.wait_transfer(ben, moving["id"], ("done", "failed"))
            assert done["status"] == "done", done
            assert sim.stored_config()["binding"]["topic_prefix"].startswith("users/ben8/")
