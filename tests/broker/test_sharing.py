"""Shares at the real managed Mosquitto (docs/sharing.md): the isolation matrix of a household.

The real backend hands out every login over HTTP; each refusal sits beside the legitimate action
it mirrors (the owner's or an operator's), so a refusal never passes because nothing worked.
"""

from __future__ import annotations

import asyncio

from pooldesk_server.broker.retained import publish_retained
from pooldesk_server.broker.service.config import INLINE_BUDGET_S
from tests.broker.app_support import PASSWORD, Backend, probe_for
from tests.broker.probe import NOT_AUTHORIZED, REFUSED_SUBSCRIBE, Probe

A1, A2 = "ESP-A00001", "ESP-A00002"
P1, P2 = "users/alice/devices/esp-a00001", "users/alice/devices/esp-a00002"
SETTLE_S = 0.3  # time for a message that would leak to arrive, after the legit copy arrived


async def _member(backend: Backend, username: str) -> dict[str, str]:
    """An account without a controller, signed in."""
    registered = await backend.http.post(
        "/api/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.text
    return await backend.sign_in(username)


async def _share(backend: Backend, owner: dict, member: dict, name: str, role: str) -> str:
    offered = await backend.http.post(
        "/api/shares", json={"username": name, "role": role, "deviceId": A1}, headers=owner
    )
    assert offered.status_code == 201, offered.text
    share_id = offered.json()["share"]["id"]
    accepted = await backend.http.post(f"/api/shares/{share_id}/accept", headers=member)
    assert accepted.status_code == 200, accepted.text
    return share_id


async def _device(backend: Backend, owner: dict, device_id: str) -> Probe:
    answer = await backend.http.post(f"/api/devices/{device_id}/credentials", headers=owner)
    assert answer.status_code == 200, answer.text
    device = probe_for(answer.json())
    assert await device.connect() == 0
    return device


async def _dashboard(backend: Backend, auth: dict) -> Probe:
    dash = probe_for(await backend.mqtt_credentials(auth))
    assert await dash.connect() == 0
    return dash


async def _household(backend: Backend):
    alice = await backend.account("alice", A1)
    added = await backend.http.post("/api/devices", json={"deviceId": A2}, headers=alice)
    assert added.status_code == 201
    return alice, await _member(backend, "vera"), await _member(backend, "otto")


async def test_viewer_reads_operator_commands_neither_reaches_other_devices(backend):
    alice, vera, otto = await _household(backend)
    # Logins issued before the shares exist: accepting widens the live logins in place.
    owner, viewer, operator = [await _dashboard(backend, a) for a in (alice, vera, otto)]
    await _share(backend, alice, vera, "vera", "viewer")
    await _share(backend, alice, otto, "otto", "operator")
    dev1, dev2 = await _device(backend, alice, A1), await _device(backend, alice, A2)
    assert await dev1.subscribe(f"{P1}/pump/set") == [1]
    assert await dev2.subscribe(f"{P2}/pump/set") == [1]
    for dash in (owner, viewer, operator):
        assert await dash.subscribe(f"{P1}/#") == [1]

    # State reaches the viewer and the operator, as it reaches the owner.
    assert await dev1.publish(f"{P1}/pump/state", '{"on": true}') == 0
    for dash in (owner, viewer, operator):
        await dash.wait_for(f"{P1}/pump/state")

    # Commands: the operator's and the owner's arrive; the viewer's are refused.
    assert await operator.publish(f"{P1}/pump/set", '{"cmd_id": "op"}') == 0
    assert await owner.publish(f"{P1}/pump/set", '{"cmd_id": "own"}') == 0
    assert await viewer.publish(f"{P1}/pump/set", '{"cmd_id": "view"}') == NOT_AUTHORIZED
    assert await viewer.publish(f"{P1}/schedule/set", "{}") == NOT_AUTHORIZED
    assert await operator.publish(f"{P1}/schedule/set", "{}") == 0
    await dev1.wait_for(f"{P1}/pump/set", count=2)
    await asyncio.sleep(SETTLE_S)
    assert sorted(m.payload for m in dev1.got(f"{P1}/pump/set")) == [
        b'{"cmd_id": "op"}',
        b'{"cmd_id": "own"}',
    ]

    # Neither member reaches the owner's other device or anything outside the device prefix.
    assert await owner.subscribe(f"{P2}/#") == [1]
    for member in (viewer, operator):
        for topic_filter in (f"{P2}/#", "users/alice/#", "users/alice/devices/+/pump/state", "#"):
            assert (await member.subscribe(topic_filter))[0] in REFUSED_SUBSCRIBE, topic_filter
        assert await member.publish(f"{P2}/pump/set", "{}") == NOT_AUTHORIZED
        assert await member.publish(f"{P1}/pump/state", "{}") == NOT_AUTHORIZED
    assert await owner.publish(f"{P2}/pump/set", '{"cmd_id": "two"}') == 0
    (only,) = await dev2.wait_for(f"{P2}/pump/set")
    assert only.payload == b'{"cmd_id": "two"}'
    assert await dev2.publish(f"{P2}/pump/state", "{}") == 0
    await owner.wait_for(f"{P2}/pump/state")
    await asyncio.sleep(SETTLE_S)
    assert viewer.got(f"{P2}/pump/state") == []
    assert operator.got(f"{P2}/pump/state") == []
    for p in (owner, viewer, operator, dev1, dev2):
        p.close()


async def test_an_ended_share_cuts_the_live_connection_before_the_answer(backend):
    alice, vera, otto = await _household(backend)
    share_id = await _share(backend, alice, vera, "vera", "operator")
    await _share(backend, alice, otto, "otto", "operator")  # the twin that keeps its rights
    viewer, twin = await _dashboard(backend, vera), await _dashboard(backend, otto)
    for dash in (viewer, twin):
        assert await dash.subscribe(f"{P1}/#") == [1]
    dev1 = await _device(backend, alice, A1)

    # Operator → viewer: the live login loses publishing; it is cut and, back, may not publish.
    changed, cut = await viewer.cut_by(
        backend.http.patch(f"/api/shares/{share_id}", json={"role": "viewer"}, headers=alice)
    )
    assert changed.status_code == 200
    # The broker cut it before the answer (0.02 s after the request here): when the answer
    # arrives the cut already waits in the client's socket, however late the client reads it.
    assert cut, "narrowed rights must cut the connection before the answer"
    assert await viewer.wait_disconnected(), "narrowed rights must cut the connection"
    assert not twin.disconnected.is_set()
    viewer.close()
    viewer = await _dashboard(backend, vera)
    assert await viewer.subscribe(f"{P1}/#") == [1]
    assert await viewer.publish(f"{P1}/pump/set", "{}") == NOT_AUTHORIZED
    assert await twin.publish(f"{P1}/pump/set", "{}") == 0

    # Ended: cut at once; the same password still signs in (the login is the member's own),
    # but the shared device is out of reach while the twin still reads it.
    ended = await backend.http.delete(f"/api/shares/{share_id}", headers=alice)
    assert ended.status_code == 200
    assert await viewer.wait_disconnected()
    viewer.close()
    again = await _dashboard(backend, vera)
    assert (await again.subscribe(f"{P1}/#"))[0] in REFUSED_SUBSCRIBE
    assert await again.subscribe("users/vera/#") == [1]
    assert await dev1.publish(f"{P1}/status", "online") == 0
    await twin.wait_for(f"{P1}/status")
    for p in (again, twin, dev1):
        p.close()


async def test_dashboards_never_read_binding_topics_not_even_the_owners(backend):
    alice, vera, _otto = await _household(backend)
    await _share(backend, alice, vera, "vera", "operator")
    owner, member = await _dashboard(backend, alice), await _dashboard(backend, vera)
    assert (await owner.subscribe(f"{P1}/binding/#"))[0] in REFUSED_SUBSCRIBE
    assert (await member.subscribe(f"{P1}/binding/set"))[0] in REFUSED_SUBSCRIBE
    assert await owner.subscribe("users/alice/#") == [1]
    assert await member.subscribe(f"{P1}/#") == [1]
    # A retained binding and a retained status, published together by a service login: the
    # status arrives, the binding (it carries a device password) does not.
    await publish_retained(
        backend.broker, {f"{P1}/binding/set": b'{"mqtt_password": "x"}', f"{P1}/status": b"on"}
    )
    await owner.wait_for(f"{P1}/status")
    await member.wait_for(f"{P1}/status")
    await asyncio.sleep(SETTLE_S)
    assert owner.got(f"{P1}/binding/set") == []
    assert member.got(f"{P1}/binding/set") == []
    # And a fresh subscription that would deliver the retained binding gets nothing of it.
    late = await _dashboard(backend, alice)
    assert await late.subscribe(f"{P1}/+/set") == [1]
    assert await late.subscribe(f"{P1}/status") == [1]
    await late.wait_for(f"{P1}/status")
    await asyncio.sleep(SETTLE_S)
    assert late.got(f"{P1}/binding/set") == []
    for p in (owner, member, late):
        p.close()


async def test_an_installer_binds_the_owners_device_and_keeps_no_access(backend):
    alice = await backend.account("alice", A1)
    ian = await _member(backend, "ian")
    code = (await backend.http.post("/api/setup-codes", headers=alice)).json()["setupCode"]
    new, prefix = "ESP-123456", "users/alice/devices/esp-123456"
    added = await backend.http.post(
        "/api/devices", json={"deviceId": new, "setupCode": code["code"]}, headers=ian
    )
    assert added.status_code == 201, added.text
    # The wizard's device login carries the owner's prefix.
    issued = await backend.http.post(f"/api/devices/{new}/credentials", headers=ian)
    assert issued.status_code == 200, issued.text
    creds = issued.json()
    assert creds["topicPrefix"] == prefix
    device = probe_for(creds)
    assert await device.connect() == 0
    owner, installer = await _dashboard(backend, alice), await _dashboard(backend, ian)
    assert await owner.subscribe(f"{prefix}/#") == [1]
    assert (await installer.subscribe(f"{prefix}/#"))[0] in REFUSED_SUBSCRIBE
    assert await installer.publish(f"{prefix}/pump/set", "{}") == NOT_AUTHORIZED
    assert await device.publish(f"{prefix}/status", "online") == 0
    await owner.wait_for(f"{prefix}/status")

    ended = await backend.http.delete(f"/api/devices/{new}/setup-grant", headers=ian)
    assert ended.status_code == 200
    again = await backend.http.post(f"/api/devices/{new}/credentials", headers=ian)
    assert again.status_code == 404
    # The owner's device keeps working with the login the installer wrote to it.
    assert await device.publish(f"{prefix}/telemetry", "{}") == 0
    await owner.wait_for(f"{prefix}/telemetry")
    for p in (device, owner, installer):
        p.close()


async def test_a_narrowing_whose_answer_was_lost_is_finished_by_the_reconcile_loop(backend):
    """The change commits its broker work with it: a server that dies right after the commit
    (here: nobody hears the event) leaves the work to the reconcile loop, not undone."""
    alice, vera, _otto = await _household(backend)
    share_id = await _share(backend, alice, vera, "vera", "operator")
    member = await _dashboard(backend, vera)
    assert await member.subscribe(f"{P1}/#") == [1]
    extension = backend.extension
    extension.state.ctx.events.unsubscribe(extension.on_account_event)
    try:
        ended = await backend.http.delete(f"/api/shares/{share_id}", headers=alice)
        assert ended.status_code == 200
        assert not member.disconnected.is_set()  # nothing reached the broker yet
        assert await extension.reconcile_once() == 0
    finally:
        extension.state.ctx.events.subscribe(extension.on_account_event)
    assert await member.wait_disconnected()
    member.close()
    again = await _dashboard(backend, vera)
    assert (await again.subscribe(f"{P1}/#"))[0] in REFUSED_SUBSCRIBE
    again.close()


async def test_removing_the_device_or_the_owners_account_cuts_the_members(backend):
    alice, vera, otto = await _household(backend)
    await _share(backend, alice, vera, "vera", "viewer")  # A1 only
    offered = await backend.http.post(
        "/api/shares", json={"username": "otto", "role": "viewer"}, headers=alice
    )  # all of alice's devices
    assert offered.status_code == 201
    share_id = offered.json()["share"]["id"]
    assert (
        await backend.http.post(f"/api/shares/{share_id}/accept", headers=otto)
    ).status_code == 200
    one, every = await _dashboard(backend, vera), await _dashboard(backend, otto)
    assert await one.subscribe(f"{P1}/#") == [1]
    assert await every.subscribe(f"{P2}/#") == [1]

    # The device goes: its member is cut; the member of all devices keeps the other one.
    removed, cut = await one.cut_by(backend.http.delete(f"/api/devices/{A1}", headers=alice))
    assert removed.status_code == 200
    assert cut, "the device's member must be cut before the answer"
    assert await one.wait_disconnected()
    assert not every.disconnected.is_set()

    # The owner's account goes: the remaining member is cut too.
    deleted = await backend.http.request(
        "DELETE", "/api/account", json={"password": PASSWORD}, headers=alice
    )
    assert deleted.status_code == 200
    # The request waits for the broker at most INLINE_BUDGET_S for each of its steps (the
    # owner's logins and retained messages, then the members' rights); the cut follows soon
    # after at the latest, never only at the next reconcile (30 s).
    assert await every.wait_disconnected(within=INLINE_BUDGET_S + 2)
    every.close()
    back = await _dashboard(backend, otto)
    assert (await back.subscribe(f"{P2}/#"))[0] in REFUSED_SUBSCRIBE
    assert await back.subscribe("users/otto/#") == [1]
    for p in (one, back):
        p.close()
