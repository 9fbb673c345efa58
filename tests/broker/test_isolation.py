"""The isolation matrix against a real managed Mosquitto: two users with two devices each.

Every refusal sits beside the legitimate action it mirrors, in the same test, so a refusal can
never pass because nothing worked at all.
"""

from __future__ import annotations

import json
from dataclasses import replace

from pooldesk_server.broker.logins import dashboard_login, new_password
from tests.broker.probe import NOT_AUTHORIZED, REFUSED_SUBSCRIBE, Probe
from tests.support.waiting import assert_nothing_arrives

A1, A2, B1 = "esp-a00001", "esp-a00002", "esp-b00001"
# How long a message that would leak gets to arrive after the legitimate copy arrived: a leak is
# an absence to prove, so the tests watch this window (assert_nothing_arrives) instead of an event.
SETTLE_S = 0.3


async def test_command_and_state_echo_work_for_the_owner(world, probe):
    alice = world.alice
    dash, dev = probe(alice.dashboard), probe(alice.devices[A1])
    assert await dash.connect() == 0
    assert await dev.connect() == 0
    assert await dash.subscribe("users/alice/#") == [1]
    assert await dev.subscribe(
        f"{alice.prefix(A1)}/pump/set", f"{alice.prefix(A1)}/schedule/set"
    ) == [1, 1]

    command = {"cmd_id": "c1", "on": True, "ts": "2026-11-27T14:00:00Z"}
    assert await dash.publish(f"{alice.prefix(A1)}/pump/set", json.dumps(command)) == 0
    (received,) = await dev.wait_for(f"{alice.prefix(A1)}/pump/set")
    assert json.loads(received.payload)["cmd_id"] == "c1"

    state = {
        "on": True,
        "mode": "manual",
        "until": None,
        "cmd_id": "c1",
        "ts": "2026-11-27T14:00:00Z",
    }
    for topic, payload in [
        ("pump/state", json.dumps(state)),
        ("status", "online"),
        ("telemetry", '{"water_c": 26.5}'),
        ("schedule", '{"windows": []}'),
        ("alert/freeze", '{"id": "freeze"}'),
        ("event", '{"type": "boot"}'),
    ]:
        assert await dev.publish(f"{alice.prefix(A1)}/{topic}", payload) == 0, topic
        await dash.wait_for(f"{alice.prefix(A1)}/{topic}")
    echoed = await dash.wait_for(f"{alice.prefix(A1)}/pump/state")
    assert json.loads(echoed[0].payload)["cmd_id"] == "c1"


async def test_cross_tenant_subscriptions_are_refused(world, probe):
    alice, bob = world.alice, world.bob
    victim_dash, victim_dev = probe(alice.dashboard), probe(alice.devices[A1])
    attacker, attacker_dev = probe(bob.dashboard), probe(bob.devices[B1])
    for p in (victim_dash, victim_dev, attacker, attacker_dev):
        assert await p.connect() == 0
    assert await victim_dash.subscribe("users/alice/#") == [1]

    stolen = [
        "users/alice/#",
        f"{alice.prefix(A1)}/pump/state",
        f"{alice.prefix(A1)}/pump/set",
        "#",
        "users/#",
        "users/+/devices/+/pump/state",
        "+/alice/#",
        "+/+/+/+/+/+",
        "$SYS/#",
        "$SYS/broker/clients/connected",
        "$share/g/users/alice/#",
        "$share/recorder/users/+/devices/+/#",
        "$CONTROL/dynamic-security/#",
    ]
    for attacker_probe in (attacker, attacker_dev):
        for topic_filter in stolen:
            codes = await attacker_probe.subscribe(topic_filter)
            assert codes[0] in REFUSED_SUBSCRIBE, (attacker_probe.username, topic_filter, codes)
    # A multi-filter SUBSCRIBE is checked filter by filter, not just the first one.
    assert (await attacker.subscribe("users/bob/#", "users/alice/#"))[0] == 1
    assert (await attacker.subscribe("users/bob/#", "users/alice/#"))[1] in REFUSED_SUBSCRIBE

    assert await victim_dev.publish(f"{alice.prefix(A1)}/pump/state", '{"on": false}') == 0
    await victim_dash.wait_for(f"{alice.prefix(A1)}/pump/state")
    await assert_nothing_arrives(
        lambda: attacker.messages or attacker_dev.messages, SETTLE_S, "a leaked message"
    )


async def test_cross_tenant_publishes_are_refused_and_not_delivered(world, probe):
    alice, bob = world.alice, world.bob
    owner, device = probe(alice.dashboard), probe(alice.devices[A1])
    attacker, attacker_dev = probe(bob.dashboard), probe(bob.devices[B1])
    for p in (owner, device, attacker, attacker_dev):
        assert await p.connect() == 0
    assert await device.subscribe(f"{alice.prefix(A1)}/pump/set") == [1]
    assert await owner.subscribe("users/alice/#") == [1]
    target = f"{alice.prefix(A1)}/pump/set"

    assert await attacker.publish(target, '{"cmd_id": "evil", "on": true}') == NOT_AUTHORIZED
    assert await attacker_dev.publish(target, '{"cmd_id": "evil2", "on": true}') == NOT_AUTHORIZED
    for topic in ("pump/state", "status", "alert/x", "telemetry", "event"):
        forged = f"{alice.prefix(A1)}/{topic}"
        assert await attacker.publish(forged, "forged") == NOT_AUTHORIZED, topic
        assert await attacker_dev.publish(forged, "forged", retain=True) == NOT_AUTHORIZED, topic

    assert await owner.publish(target, '{"cmd_id": "good", "on": true}') == 0
    (cmd,) = await device.wait_for(target)
    assert json.loads(cmd.payload)["cmd_id"] == "good"
    await assert_nothing_arrives(lambda: len(device.got(target)) > 1, SETTLE_S, "a forged command")
    assert [m.payload for m in device.got(target)] == [b'{"cmd_id": "good", "on": true}']
    assert all(m.payload != b"forged" for m in owner.messages)


async def test_retained_messages_reach_only_their_owner(world, probe):
    alice, bob = world.alice, world.bob
    device = probe(alice.devices[A1])
    assert await device.connect() == 0
    state_topic = f"{alice.prefix(A1)}/pump/state"
    assert await device.publish(state_topic, '{"on": true, "cmd_id": "r1"}', retain=True) == 0
    assert (
        await device.publish(f"{alice.prefix(A1)}/alert/freeze", '{"id": "freeze"}', retain=True)
        == 0
    )
    assert await device.publish(f"{alice.prefix(A1)}/status", "online", retain=True) == 0

    attacker, sibling = probe(bob.dashboard), probe(alice.devices[A2])
    assert await attacker.connect() == 0
    assert await sibling.connect() == 0
    for filt in ("users/alice/#", state_topic, "#", "users/+/devices/+/#"):
        assert (await attacker.subscribe(filt))[0] in REFUSED_SUBSCRIBE
    for filt in (state_topic, f"{alice.prefix(A1)}/#", "users/alice/#"):
        assert (await sibling.subscribe(filt))[0] in REFUSED_SUBSCRIBE
    assert await sibling.subscribe(f"{alice.prefix(A2)}/pump/set") == [1]

    owner = probe(alice.dashboard)
    assert await owner.connect() == 0
    assert await owner.subscribe("users/alice/#") == [1]
    retained = await owner.wait_for(state_topic)
    assert retained[0].retain
    await owner.wait_for(f"{alice.prefix(A1)}/alert/freeze")

    # Clearing an alert with an empty retained payload removes it for later subscribers.
    assert await device.publish(f"{alice.prefix(A1)}/alert/freeze", b"", retain=True) == 0
    # the broker stores a retained message before it delivers it: once the owner has the empty
    # payload, a later subscriber is served the cleared state
    await owner.wait_for(f"{alice.prefix(A1)}/alert/freeze", count=2)
    late = probe(alice.dashboard)
    owner.close()
    assert await late.connect() == 0
    assert await late.subscribe("users/alice/#") == [1]
    await late.wait_for(state_topic)
    await assert_nothing_arrives(
        lambda: (
            late.got(f"{alice.prefix(A1)}/alert/freeze") or attacker.messages or sibling.messages
        ),
        SETTLE_S,
        "the cleared alert or a leaked message",
    )


async def test_will_messages_obey_publish_rights(world, probe):
    alice, bob = world.alice, world.bob
    watcher = probe(alice.dashboard)
    bob_watcher = probe(bob.dashboard)
    assert await watcher.connect() == 0
    assert await bob_watcher.connect() == 0
    assert await watcher.subscribe("users/alice/#") == [1]
    assert await bob_watcher.subscribe("users/bob/#") == [1]

    # Bob's device aims its will at Alice's device; Bob's other device sets an honest will.
    forged_status = f"{alice.prefix(A1)}/status"
    evil_device = probe(bob.devices[B1])
    honest = probe(bob.devices["esp-b00002"])
    # Mosquitto accepts the connection and drops the will when it would fire.
    assert await evil_device.connect(will=(forged_status, b"offline-forged", True)) == 0
    assert await honest.connect(will=(f"{bob.prefix('esp-b00002')}/status", b"offline", True)) == 0
    evil_device.drop()
    honest.drop()

    (will,) = await bob_watcher.wait_for(f"{bob.prefix('esp-b00002')}/status")
    assert will.payload == b"offline"
    await assert_nothing_arrives(lambda: watcher.got(forged_status), SETTLE_S, "the forged will")


async def test_dashboard_will_cannot_fake_device_status(broker, world, probe):
    alice = world.alice
    watcher = probe(alice.dashboard)
    assert await watcher.connect() == 0
    assert await watcher.subscribe("users/alice/#") == [1]
    second_session = dashboard_login("alice", "5ec0bd")
    await broker.put_login(second_session)
    faker = probe(second_session)
    assert await faker.connect(will=(f"{alice.prefix(A1)}/status", b"offline-forged", True)) == 0
    faker.drop()
    device = probe(alice.devices[A1])
    assert await device.connect(will=(f"{alice.prefix(A1)}/status", b"offline", True)) == 0
    device.drop()
    (status,) = await watcher.wait_for(f"{alice.prefix(A1)}/status")
    assert status.payload == b"offline"
    await assert_nothing_arrives(
        lambda: len(watcher.got(f"{alice.prefix(A1)}/status")) > 1, SETTLE_S, "a second status"
    )


async def test_client_id_takeover_is_refused_and_queued_commands_stay_with_the_owner(world, probe):
    alice, bob = world.alice, world.bob
    device_login = alice.devices[A1]
    device = probe(device_login)
    assert await device.connect(clean_start=False, session_expiry=300) == 0
    assert await device.subscribe(f"{alice.prefix(A1)}/pump/set") == [1]
    device.close()  # persistent session: commands for it are queued

    owner = probe(alice.dashboard)
    assert await owner.connect() == 0
    assert await owner.publish(f"{alice.prefix(A1)}/pump/set", '{"cmd_id": "q1", "on": true}') == 0

    for thief_login in (bob.dashboard, bob.devices[B1], alice.devices[A2], alice.dashboard):
        thief = Probe(
            device.port, thief_login.username, thief_login.password, device_login.client_id
        )
        try:
            code = await thief.connect(clean_start=False, session_expiry=300)
            assert code == NOT_AUTHORIZED, (thief_login.username, code)
            await assert_nothing_arrives(lambda t=thief: t.messages, SETTLE_S, "a queued message")
        finally:
            thief.close()

    back = probe(device_login)
    assert await back.connect(clean_start=False, session_expiry=300) == 0
    (queued,) = await back.wait_for(f"{alice.prefix(A1)}/pump/set")
    assert json.loads(queued.payload)["cmd_id"] == "q1"


async def test_a_device_cannot_reach_its_sibling(world, probe):
    alice = world.alice
    a1, a2, owner = probe(alice.devices[A1]), probe(alice.devices[A2]), probe(alice.dashboard)
    for p in (a1, a2, owner):
        assert await p.connect() == 0
    assert await a1.subscribe(f"{alice.prefix(A1)}/pump/set") == [1]
    assert await owner.subscribe("users/alice/#") == [1]

    for filt in (
        f"{alice.prefix(A1)}/pump/set",
        f"{alice.prefix(A1)}/pump/state",
        "users/alice/devices/+/pump/set",
        "users/alice/#",
    ):
        assert (await a2.subscribe(filt))[0] in REFUSED_SUBSCRIBE, filt
    # A device may not read its own state either, nor command anything, itself included.
    assert (await a2.subscribe(f"{alice.prefix(A2)}/pump/state"))[0] in REFUSED_SUBSCRIBE
    assert await a2.publish(f"{alice.prefix(A1)}/pump/set", '{"cmd_id": "s"}') == NOT_AUTHORIZED
    assert await a2.publish(f"{alice.prefix(A2)}/pump/set", '{"cmd_id": "s"}') == NOT_AUTHORIZED
    assert await a2.publish(f"{alice.prefix(A1)}/pump/state", "forged") == NOT_AUTHORIZED

    assert await a2.publish(f"{alice.prefix(A2)}/pump/state", '{"on": false}') == 0
    await owner.wait_for(f"{alice.prefix(A2)}/pump/state")
    await assert_nothing_arrives(
        lambda: a1.messages or owner.got(f"{alice.prefix(A1)}/pump/state"), SETTLE_S, "a leak"
    )


async def test_dashboard_publishes_only_commands(world, probe):
    alice = world.alice
    dash, device = probe(alice.dashboard), probe(alice.devices[A1])
    assert await dash.connect() == 0
    assert await device.connect() == 0
    assert (
        await dash.publish(f"{alice.prefix(A1)}/schedule/set", '{"cmd_id": "s1", "windows": []}')
        == 0
    )
    for topic in ("pump/state", "status", "telemetry", "schedule", "alert/x", "event"):
        assert await dash.publish(f"{alice.prefix(A1)}/{topic}", "x") == NOT_AUTHORIZED, topic
    assert await dash.publish("users/alice/anything", "x") == NOT_AUTHORIZED


async def test_recorder_reads_every_device_through_its_share_only(world, probe):
    alice, bob = world.alice, world.bob
    recorder = probe(world.recorder)
    assert await recorder.connect() == 0
    for filt in (
        "users/#",
        "#",
        "users/+/devices/+/#",
        "$share/other/users/+/devices/+/#",
        "$SYS/#",
    ):
        assert (await recorder.subscribe(filt))[0] in REFUSED_SUBSCRIBE, filt
    assert await recorder.subscribe("$share/recorder/users/+/devices/+/#") == [1]

    a, b = probe(alice.devices[A1]), probe(bob.devices[B1])
    assert await a.connect() == 0
    assert await b.connect() == 0
    assert await a.publish(f"{alice.prefix(A1)}/telemetry", '{"water_c": 25}') == 0
    assert await b.publish(f"{bob.prefix(B1)}/telemetry", '{"water_c": 27}') == 0
    await recorder.wait_for(f"{alice.prefix(A1)}/telemetry")
    await recorder.wait_for(f"{bob.prefix(B1)}/telemetry")
    assert (
        await recorder.publish(f"{alice.prefix(A1)}/pump/set", '{"cmd_id": "r"}') == NOT_AUTHORIZED
    )


async def test_rotated_password_is_refused_and_its_connection_cut(broker, world, probe):
    old_login = world.alice.devices[A1]
    live = probe(old_login)
    assert await live.connect() == 0
    rotated = replace(old_login, password=new_password())
    await broker.put_login(rotated)
    assert await live.wait_disconnected(), "the connection using the old password stays open"

    stale = probe(old_login)
    assert await stale.connect() == NOT_AUTHORIZED
    fresh = probe(rotated)
    assert await fresh.connect() == 0
    assert await fresh.publish(f"{world.alice.prefix(A1)}/status", "online") == 0


async def test_deleted_login_is_cut_at_once_and_others_stay(broker, world, probe):
    alice = world.alice
    doomed, survivor = probe(alice.devices[A1]), probe(alice.devices[A2])
    assert await doomed.connect() == 0
    assert await survivor.connect() == 0
    await broker.delete_login(alice.devices[A1].username)
    assert await doomed.wait_disconnected(2.0)
    assert not survivor.disconnected.is_set()
    assert await survivor.publish(f"{alice.prefix(A2)}/status", "online") == 0
    assert await probe(alice.devices[A1]).connect() == NOT_AUTHORIZED
    assert alice.devices[A1].username not in await broker.list_logins()
    await broker.delete_login(alice.devices[A1].username)  # idempotent


async def test_websocket_listener_enforces_the_same_rights(broker, world, probe):
    alice, bob = world.alice, world.bob
    ws = probe(alice.dashboard, transport="websockets")
    ws.port = broker.websocket_port
    ws.client.ws_set_options(path="/")
    assert await ws.connect() == 0
    assert await ws.subscribe("users/alice/#") == [1]
    assert (await ws.subscribe("users/bob/#"))[0] in REFUSED_SUBSCRIBE
    device = probe(alice.devices[A1])
    assert await device.connect() == 0
    assert await device.publish(f"{alice.prefix(A1)}/status", "online") == 0
    await ws.wait_for(f"{alice.prefix(A1)}/status")
    assert bob.username not in {m.topic.split("/")[1] for m in ws.messages}
