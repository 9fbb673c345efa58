"""The http-auth back end decides from the same rights as Mosquitto: check that both agree.

Each subscribe filter and publish topic is tried for real on the managed Mosquitto and decided by
`pooldesk_server.broker.matching.allowed`; any disagreement would be a hole in one of the two back
ends.
"""

from __future__ import annotations

from pooldesk_server.broker.base import BrokerLogin
from pooldesk_server.broker.logins import new_password
from pooldesk_server.broker.matching import allowed
from pooldesk_server.broker.rights import mover_rights
from tests.broker.probe import NOT_AUTHORIZED, REFUSED_SUBSCRIBE

A1 = "users/alice/devices/esp-a00001"
FILTERS = [
    "users/alice/#",
    "users/alice/+",
    "users/alice/devices/+/pump/state",
    f"{A1}/#",
    f"{A1}/pump/set",
    f"{A1}/schedule/set",
    f"{A1}/+/set",
    f"{A1}/binding/#",  # dashboards are denied binding/# (deny rules: docs/mqtt.md)
    f"{A1}/binding/set",
    "users/alice/devices/+/binding/#",
    f"{A1}/pump/+",
    f"{A1}/pump/state",
    "users/alice/devices/esp-a00002/pump/set",
    "users/+/devices/+/pump/set",
    "users/bob/#",
    "#",
    "+/#",
    "users/#",
    "$SYS/#",
    "$share/recorder/users/+/devices/+/#",
    "$share/x/users/alice/#",
    f"{A1}/binding/set",
    f"{A1}/binding/state",
    f"{A1}/binding/#",
    "users/+/devices/+/binding/state",
    "users/+/devices/+/binding/set",
]
TOPICS = [
    f"{A1}/pump/set",
    f"{A1}/schedule/set",
    f"{A1}/pump/state",
    f"{A1}/status",
    f"{A1}/telemetry",
    f"{A1}/schedule",
    f"{A1}/alert/freeze",
    f"{A1}/alert/a/b",
    f"{A1}/event",
    f"{A1}/other",
    f"{A1}/binding/set",
    f"{A1}/binding/state",
    "users/alice/devices/esp-a00002/pump/set",
    "users/alice/devices/esp-a00002/status",
    "users/bob/devices/esp-b00001/pump/set",
    "users/alice",
    "$SYS/x",
    f"{A1}/binding/set",
    f"{A1}/binding/state",
    "users/bob/devices/esp-b00001/binding/set",
]


async def test_mosquitto_and_the_http_auth_matcher_agree(broker, world, probe):
    mover = BrokerLogin("svc-move-x", new_password(), "svc-move-x", mover_rights())
    await broker.put_login(mover)
    logins = [
        world.alice.dashboard,
        world.alice.devices["esp-a00001"],
        world.bob.dashboard,
        world.recorder,
        mover,
    ]
    disagreements = []
    for login in logins:
        client = probe(login)
        assert await client.connect() == 0
        for topic_filter in FILTERS:
            granted = (await client.subscribe(topic_filter))[0] not in REFUSED_SUBSCRIBE
            if granted != allowed(login.rights, "subscribe", topic_filter):
                disagreements.append((login.username, "subscribe", topic_filter, granted))
        for topic in TOPICS:
            accepted = await client.publish(topic, "x") != NOT_AUTHORIZED
            if accepted != allowed(login.rights, "publish", topic):
                disagreements.append((login.username, "publish", topic, accepted))
        client.close()
    assert disagreements == []
