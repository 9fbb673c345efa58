"""The hivemq-cloud back end against a local server following HiveMQ Cloud's REST API."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from pooldesk_server.broker.base import BrokerBackend, BrokerRejected, BrokerUnavailable
from pooldesk_server.broker.hivemq import HiveMQCloud
from pooldesk_server.broker.logins import (
    dashboard_login,
    device_login,
    new_password,
    recorder_login,
)
from pooldesk_server.broker.mosquitto import BrokerConfigError
from tests.broker.fake_hivemq import FakeHiveMQ

API = (
    "https://api.test.hivemq.cloud/api/v2/orgs/abc123/clusters/0b6c1f9e-1111-2222-3333-444455556666"
)
A1 = "users/alice/devices/esp-a00001"


def cloud_of(fake: FakeHiveMQ) -> HiveMQCloud:
    """The hivemq-cloud back end, talking to `fake` (not started)."""
    return HiveMQCloud(
        api_url=API,
        api_token=fake.token,
        broker_url="mqtts://c.hivemq.cloud:8883",
        transport=httpx.ASGITransport(app=fake.app()),
    )


@pytest.fixture
async def cloud():
    fake = FakeHiveMQ(token="tok-" + "x" * 30)
    backend = cloud_of(fake)
    await backend.start()
    try:
        yield fake, backend
    finally:
        await backend.stop()


async def test_logins_get_exact_rights_on_the_cluster(cloud):
    fake, backend = cloud
    assert isinstance(backend, BrokerBackend)
    alice, bob = dashboard_login("alice", "s1"), dashboard_login("bob", "s2")
    device, recorder = device_login("alice", "ESP-A00001"), recorder_login()
    await backend.put_logins([alice, bob, device, recorder])
    assert await backend.list_logins() == {
        alice.username,
        bob.username,
        device.username,
        recorder.username,
    }
    assert fake.can_connect(device.username, device.password)
    assert not fake.can_connect(device.username, alice.password)

    # HiveMQ delivers what may be subscribed: a dashboard subscribes per topic (as the app
    # does), never to binding/#, which carries a device password.
    assert fake.can_subscribe(alice.username, "users/alice/devices/+/pump/state")
    assert fake.can_subscribe(alice.username, f"{A1}/alert/+")
    assert not fake.can_subscribe(alice.username, f"{A1}/binding/set")
    assert not fake.can_subscribe(alice.username, "users/alice/#")
    assert fake.can_publish(alice.username, f"{A1}/pump/set")
    assert not fake.can_publish(
        alice.username, f"{A1}/pump/set", retain=True
    )  # commands never retained
    assert not fake.can_publish(alice.username, f"{A1}/pump/state")
    assert not fake.can_subscribe(bob.username, "users/alice/#")
    assert not fake.can_subscribe(bob.username, "#")
    assert not fake.can_publish(bob.username, f"{A1}/pump/set")

    assert fake.can_publish(device.username, f"{A1}/pump/state", retain=True)
    assert fake.can_publish(device.username, f"{A1}/telemetry")
    assert not fake.can_publish(device.username, f"{A1}/telemetry", retain=True)
    # an update's progress stays retained, as on Mosquitto (docs/mqtt.md: `ota/status` retained)
    assert fake.can_publish(device.username, f"{A1}/ota/status", retain=True)
    assert not fake.can_publish(device.username, f"{A1}/ota/get", retain=True)
    assert fake.can_subscribe(device.username, f"{A1}/pump/set")
    assert fake.can_subscribe(device.username, f"{A1}/binding/set")
    assert fake.can_publish(device.username, f"{A1}/binding/state")
    assert not fake.can_subscribe(device.username, f"{A1}/pump/state")
    assert not fake.can_subscribe(device.username, "users/alice/devices/esp-a00002/pump/set")

    assert fake.can_subscribe(recorder.username, "$share/recorder/users/+/devices/+/#")
    assert not fake.can_subscribe(recorder.username, "users/+/devices/+/#")
    assert not fake.can_subscribe(recorder.username, "$share/other/users/+/devices/+/#")
    assert not fake.can_publish(recorder.username, f"{A1}/pump/set")


async def test_rotation_deletion_and_idempotency(cloud):
    fake, backend = cloud
    device = device_login("alice", "ESP-A00001")
    await backend.put_login(device)
    permissions_before = dict(fake.permissions)
    rotated = replace(device, password=new_password())
    await backend.put_login(rotated)
    assert not fake.can_connect(device.username, device.password)
    assert fake.can_connect(rotated.username, rotated.password)
    assert fake.permissions == permissions_before  # unchanged rights are not churned
    assert fake.disconnected[-1] == device.client_id

    moved = replace(device_login("carol", "ESP-A00001"), password=rotated.password)
    await backend.put_login(moved)
    assert fake.can_publish(moved.username, "users/carol/devices/esp-a00001/status")
    assert not fake.can_publish(moved.username, f"{A1}/status")

    await backend.delete_login(device.username)
    await backend.delete_login(device.username)
    assert not fake.can_connect(device.username, rotated.password)
    assert fake.roles == {}
    assert fake.permissions == {}
    assert await backend.list_logins() == set()
    assert fake.disconnected[-1] == device.client_id


async def test_errors_are_classified_for_retry(cloud):
    fake, backend = cloud
    fake.down = True
    with pytest.raises(BrokerUnavailable, match="503"):
        await backend.put_login(device_login("alice", "ESP-A00001"))
    assert not (await backend.health()).ok
    fake.down = False
    wrong = HiveMQCloud(
        api_url=API,
        api_token="wrong",
        broker_url="x",
        transport=httpx.ASGITransport(app=fake.app()),
    )
    with pytest.raises(BrokerRejected, match="HIVEMQ_API_TOKEN"):
        await wrong.start()
    await wrong.stop()
    with pytest.raises(BrokerConfigError, match="HIVEMQ_API_TOKEN"):
        HiveMQCloud.from_env({"HIVEMQ_API_URL": API, "MQTT_BROKER_URL": "x"})


async def test_many_logins_are_listed_across_pages(cloud):
    _fake, backend = cloud
    backend._page_size = 50  # the API's smallest page, so 120 logins span three pages
    logins = [device_login("alice", f"ESP-{i:06X}") for i in range(120)]
    await backend.put_logins(logins)
    assert await backend.list_logins() == {login.username for login in logins}
