"""Hand-over races where the backend could count the wrong login as the controller's and lock it
out (docs/sharing.md, "Hand-over"): a delivery the broker acknowledged too late, and a cancel the
controller overtook. The real backend app, its managed Mosquitto (paused with SIGSTOP) and the
simulated controller running the unchanged firmware."""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from pooldesk_server.broker.base import BrokerLogin
from pooldesk_server.broker.managed import ManagedMosquitto
from pooldesk_server.db.models import Device, Transfer
from pooldesk_server.transfers.transport import PUBLISH_TIMEOUT_S
from tests.broker.probe import Probe
from tests.support.waiting import wait_until
from tests.transfers.conftest import Hand
from tests.transfers.test_hand_over import _delivered_login, _offered_and_accepted, _two_owners

pytestmark = pytest.mark.timeout(240)


@contextlib.contextmanager
def late_first_delivery(broker: ManagedMosquitto, client_id: str) -> Iterator[list[str]]:
    """The broker freezes (SIGSTOP) right after it accepted the first new login for the unit
    `client_id`, so the binding published next is acknowledged only after the mover gave up
    on it (PUBLISH_TIMEOUT_S); it resumes when the mover issues another login. Yields the new
    logins' names as they are put."""
    real: Callable[[BrokerLogin], Awaitable[None]] = broker.put_login
    put: list[str] = []
    pid = broker.pid
    assert pid is not None

    async def put_login(login: BrokerLogin) -> None:
        if login.client_id != client_id or login.username in put:
            await real(login)
            return
        put.append(login.username)
        if len(put) == 1:
            await real(login)
            os.kill(pid, signal.SIGSTOP)
        else:
            os.kill(pid, signal.SIGCONT)
            await real(login)

    broker.put_login = put_login  # type: ignore[method-assign]
    try:
        yield put
    finally:
        os.kill(pid, signal.SIGCONT)
        del broker.put_login


async def test_a_late_acknowledged_delivery_keeps_the_login_the_controller_took(
    hand: Hand, tmp_path: Path
) -> None:
    """The first binding's acknowledgement comes after the mover's timeout; the mover delivers
    again with a second login, but the controller already took the first and says so: the
    backend keeps that one, the controller stays reachable under its new owner."""
    sim, ann, ben = await _two_owners(hand, tmp_path, 11)
    ann_login = sim.stored_config()["binding"]["mqtt_user"]
    with late_first_delivery(hand.broker, sim.stored_config()["binding"]["client_id"]) as put:
        moving = await _offered_and_accepted(hand, ann, ben, sim.device_id, "ben11")
        done = await hand.wait_transfer(
            ben, moving["id"], ("done", "failed"), 4 * PUBLISH_TIMEOUT_S
        )
        assert done["status"] == "done", done
    assert len(put) == 2  # the first delivery counted as failed: a second login went out
    taken = sim.stored_config()["binding"]["mqtt_user"]
    assert taken == put[0]
    new_prefix = f"users/ben11/devices/{sim.device_id.lower()}"
    assert sim.stored_config()["binding"]["topic_prefix"] == new_prefix

    # The broker layer deletes what the backend retired: the controller's login is not among it.
    await hand.extension.reconcile_once()
    logins = await hand.rows()
    assert logins.get(taken) == "synced"
    assert put[1] not in logins
    assert ann_login not in logins
    assert put[1] not in await hand.broker.list_logins()

    # Ben switches the pump; the controller, still on the login it took, obeys.
    await sim.wait_until(lambda: sim.online, 15)
    dash = await hand.dashboard(ben, "users/ben11/devices/+/pump/state")
    assert await hand.switch(dash, new_prefix, True, "ben-11") == 0
    await sim.wait_until(lambda: sim.relay_on, 15)
    await sim.stop()


async def _transfer(hand: Hand, transfer_id: str) -> Transfer:
    ctx = hand.mover._ctx
    assert ctx is not None
    async with ctx.db.read() as db:
        t = await db.scalar(select(Transfer).where(Transfer.id == transfer_id))
    assert t is not None
    return t


async def test_a_cancel_the_controller_overtook_does_not_delete_the_login_it_took(
    hand: Hand, tmp_path: Path
) -> None:
    """Cancelled while the binding is still retained (the mover is down: nobody withdraws it);
    the controller connects, speaks on its old prefix after the cancel, takes the binding and
    answers unheard. When the mover is back and withdraws the binding, that old-prefix traffic
    must not count as "it stayed": the login it took stays, and its next `ok` moves it."""
    sim, ann, ben = await _two_owners(hand, tmp_path, 12, online=False)
    moving = await _offered_and_accepted(hand, ann, ben, sim.device_id, "ben12")
    new_login = await _delivered_login(hand, moving["id"])
    ctx = hand.mover._ctx
    assert ctx is not None
    await hand.mover.stop()  # (as in another worker, or a restart): the binding stays retained
    r = await hand.http.delete(f"/api/transfers/{moving['id']}", headers=ann)
    assert r.status_code == 200, r.text
    cancelled_at = (await _transfer(hand, moving["id"])).updated_at

    async def heard_on_old_prefix() -> bool:
        async with ctx.db.read() as db:
            seen = await db.scalar(
                select(Device.last_seen).where(Device.device_id == sim.device_id)
            )
        return seen is not None and seen > cancelled_at

    # The unit's old login speaks on the old prefix after the cancel (a connection that dropped
    # again: the unit's own first burst on a fast link may end with its `offline` in the same
    # batch of the recorder's, which then does not count it as heard from)...
    old = sim.stored_config()["binding"]
    port = int(old["broker_url"].rsplit(":", 1)[1])
    unit = Probe(port, old["mqtt_user"], old["mqtt_password"], old["client_id"])
    assert await unit.connect() == 0
    assert await unit.publish(f"{old['topic_prefix']}/status", b"online", retain=True) == 0
    await wait_until(heard_on_old_prefix, 30, "the recorder to hear the unit on its old prefix")
    unit.close()
    # ... then connects again and finds the binding still retained: it takes it.
    await sim.start()
    await sim.wait_until(lambda: sim.stored_config()["binding"]["mqtt_user"] == new_login, 30)

    await hand.mover.start(ctx)

    async def withdrawn() -> bool:
        t = await _transfer(hand, moving["id"])
        return t.delivered_at is None or getattr(t, "withdrawn_at", None) is not None

    await wait_until(withdrawn, 30, "the mover to withdraw the binding")
    await hand.extension.reconcile_once()
    # The controller reconnects (a power cut) and repeats its `ok` with the login it stored.
    await sim.reboot()
    done = await hand.wait_transfer(ann, moving["id"], ("done",), 30)
    assert done["reason"] == "moved_before_cancel"
    new_prefix = f"users/ben12/devices/{sim.device_id.lower()}"
    (mine,) = [d for d in await hand.devices(ben) if d["deviceId"] == sim.device_id]
    assert mine["topicPrefix"] == new_prefix
    await sim.wait_until(lambda: sim.online, 15)
    dash = await hand.dashboard(ben)
    assert await hand.switch(dash, new_prefix, True, "ben-12") == 0
    await sim.wait_until(lambda: sim.relay_on, 15)
    await sim.stop()


async def test_an_ok_without_the_login_from_older_firmware_still_moves_the_controller(
    hand: Hand, tmp_path: Path
) -> None:
    """Firmware from before `mqtt_user` answers `ok` without it: the newest login issued is the
    device's, as before. The unit is played by probes with its own logins, speaking the older
    contract: its old login reads the binding, its new one answers."""
    sim, ann, ben = await _two_owners(hand, tmp_path, 13, online=False)
    moving = await _offered_and_accepted(hand, ann, ben, sim.device_id, "ben13")
    new_login = await _delivered_login(hand, moving["id"])
    old = sim.stored_config()["binding"]
    port = int(old["broker_url"].rsplit(":", 1)[1])
    reader = Probe(port, old["mqtt_user"], old["mqtt_password"], old["client_id"])
    assert await reader.connect() == 0
    assert await reader.subscribe(f"{old['topic_prefix']}/binding/set") == [1]
    binding = json.loads((await reader.wait_for(f"{old['topic_prefix']}/binding/set"))[0].payload)
    reader.close()
    assert binding["mqtt_username"] == new_login
    unit = Probe(port, new_login, binding["mqtt_password"], binding["client_id"])
    assert await unit.connect() == 0
    answer = {"v": 1, "transfer_id": moving["id"], "result": "ok", "ts": "2026-12-07T00:00:00Z"}
    assert await unit.publish(f"{binding['topic_prefix']}/binding/state", json.dumps(answer)) == 0
    done = await hand.wait_transfer(ben, moving["id"], ("done", "failed"))
    unit.close()
    assert done["status"] == "done", done
    await hand.extension.reconcile_once()
    logins = await hand.rows()
    assert logins.get(new_login) == "synced"
    assert old["mqtt_user"] not in logins
    (mine,) = [d for d in await hand.devices(ben) if d["deviceId"] == sim.device_id]
    assert mine["topicPrefix"] == binding["topic_prefix"]


async def test_a_cancelled_offers_clean_up_spares_the_next_offer_to_the_same_person(
    hand: Hand, tmp_path: Path
) -> None:
    """Ann offers the controller to Ben, cancels while it is offline, and offers it to Ben again.
    The controller then speaks on its old prefix: the first offer's login goes (it stayed), the
    second's must not, and the controller moves with it."""
    sim, ann, ben = await _two_owners(hand, tmp_path, 14, online=False)
    first = await _offered_and_accepted(hand, ann, ben, sim.device_id, "ben14")
    first_login = await _delivered_login(hand, first["id"])
    r = await hand.http.delete(f"/api/transfers/{first['id']}", headers=ann)
    assert r.status_code == 200, r.text
    second = await _offered_and_accepted(hand, ann, ben, sim.device_id, "ben14")
    second_login = await _delivered_login(hand, second["id"])
    withdrawn_at = (await _transfer(hand, first["id"])).withdrawn_at
    assert withdrawn_at is not None
    ctx = hand.mover._ctx
    assert ctx is not None

    async def heard_on_old_prefix() -> bool:
        async with ctx.db.read() as db:
            seen = await db.scalar(
                select(Device.last_seen).where(Device.device_id == sim.device_id)
            )
        return seen is not None and seen > withdrawn_at

    old = sim.stored_config()["binding"]
    port = int(old["broker_url"].rsplit(":", 1)[1])
    unit = Probe(port, old["mqtt_user"], old["mqtt_password"], old["client_id"])
    assert await unit.connect() == 0
    assert await unit.publish(f"{old['topic_prefix']}/status", b"online", retain=True) == 0
    await wait_until(heard_on_old_prefix, 30, "the recorder to hear the unit on its old prefix")
    unit.close()

    async def first_retired() -> bool:
        return (await hand.rows()).get(first_login) != "synced"

    await wait_until(first_retired, 30, "the cancelled offer's login to be retired")
    assert (await hand.rows()).get(second_login) == "synced"
    await sim.start()
    done = await hand.wait_transfer(ben, second["id"], ("done", "failed"), 30)
    assert done["status"] == "done", done
    assert sim.stored_config()["binding"]["mqtt_user"] == second_login
    await sim.stop()
