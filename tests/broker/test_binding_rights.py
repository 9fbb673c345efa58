"""Hand-over topics on a real managed Mosquitto (docs/sharing.md, "MQTT: a new binding for a
bound device"): `P/binding/set` carries a device password, so only the device reads it and only
the backend's hand-over login writes it; the device answers on `P/binding/state`, which only
that login hears. Every refusal sits beside its legitimate twin.

A message that must not arrive is checked after a later message on a readable topic arrived:
the broker delivers one client's messages in order, so a leak would have come first.
"""

from __future__ import annotations

from pooldesk_server.broker.base import BrokerLogin
from pooldesk_server.broker.logins import new_password
from pooldesk_server.broker.rights import mover_rights
from tests.broker.probe import NOT_AUTHORIZED, REFUSED_SUBSCRIBE

A1, A2 = "esp-a00001", "esp-a00002"
BINDING = b'{"v":1,"transfer_id":"t1","mqtt_password":"secret"}'


async def _mover(broker) -> BrokerLogin:
    login = BrokerLogin("svc-move-test", new_password(), "svc-move-test", mover_rights())
    await broker.put_login(login)
    return login


async def test_only_the_device_reads_its_new_binding(broker, world, probe):
    alice, bob = world.alice, world.bob
    p = alice.prefix(A1)
    mover = probe(await _mover(broker))
    device, sibling = probe(alice.devices[A1]), probe(alice.devices[A2])
    owner, stranger, recorder = probe(alice.dashboard), probe(bob.dashboard), probe(world.recorder)
    for client in (mover, device, sibling, owner, stranger, recorder):
        assert await client.connect() == 0
    assert await device.subscribe(f"{p}/binding/set") == [1]
    assert (await sibling.subscribe(f"{p}/binding/set"))[0] in REFUSED_SUBSCRIBE
    assert (await stranger.subscribe(f"{p}/binding/set"))[0] in REFUSED_SUBSCRIBE
    # The owner's dashboard may subscribe under its user, but binding/# is never delivered.
    assert await owner.subscribe("users/alice/#") == [1]
    assert (await owner.subscribe(f"{p}/binding/set"))[0] in REFUSED_SUBSCRIBE
    assert await recorder.subscribe("$share/recorder/users/+/devices/+/#") == [1]

    assert await mover.publish(f"{p}/binding/set", BINDING, retain=True) == 0
    (got,) = await device.wait_for(f"{p}/binding/set")
    assert got.payload == BINDING

    # Only the hand-over login writes a binding: not the owner, not the device itself.
    assert await owner.publish(f"{p}/binding/set", BINDING) == NOT_AUTHORIZED
    assert await device.publish(f"{p}/binding/set", BINDING) == NOT_AUTHORIZED
    # ...and the hand-over login writes nothing else.
    assert await mover.publish(f"{p}/pump/set", b'{"on":true}') == NOT_AUTHORIZED

    assert await device.publish(f"{p}/status", "online", retain=True) == 0
    await owner.wait_for(f"{p}/status")
    await recorder.wait_for(f"{p}/status")
    assert owner.got(f"{p}/binding/set") == []
    assert recorder.got(f"{p}/binding/set") == []
    assert device.got(f"{p}/binding/set") == [got]

    # A late subscriber gets the retained status but not the retained binding either.
    late = probe(alice.dashboard)
    owner.close()
    assert await late.connect() == 0
    assert await late.subscribe(f"{p}/+/set", f"{p}/status") == [1, 1]
    await late.wait_for(f"{p}/status")
    assert late.got(f"{p}/binding/set") == []


async def test_only_the_hand_over_login_hears_the_answer(broker, world, probe):
    alice = world.alice
    p = alice.prefix(A1)
    mover = probe(await _mover(broker))
    device, sibling, owner = (
        probe(alice.devices[A1]),
        probe(alice.devices[A2]),
        probe(alice.dashboard),
    )
    for client in (mover, device, sibling, owner):
        assert await client.connect() == 0
    assert await mover.subscribe("users/+/devices/+/binding/state") == [1]
    assert (await mover.subscribe("users/+/devices/+/status"))[0] in REFUSED_SUBSCRIBE
    assert await owner.subscribe("users/alice/#") == [1]

    answer = b'{"v":1,"transfer_id":"t1","result":"ok"}'
    assert await device.publish(f"{p}/binding/state", answer) == 0
    assert (await mover.wait_for(f"{p}/binding/state"))[0].payload == answer
    # A device answers only for itself; a dashboard cannot answer for it.
    assert await sibling.publish(f"{p}/binding/state", answer) == NOT_AUTHORIZED
    assert await owner.publish(f"{p}/binding/state", answer) == NOT_AUTHORIZED

    assert await device.publish(f"{p}/event", b'{"type":"boot"}') == 0
    await owner.wait_for(f"{p}/event")
    assert owner.got(f"{p}/binding/state") == []
    assert len(mover.got(f"{p}/binding/state")) == 1
