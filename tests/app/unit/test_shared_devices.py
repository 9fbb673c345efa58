"""Devices shared with the user live under their owner's prefix (docs/sharing.md): the link
subscribes per device prefix, follows the list as shares come and go, and commands go to the
owner's prefix. Real Mosquitto, paho clients publishing like the controllers."""

from __future__ import annotations

from pathlib import Path

import pytest

from pooldesk.core.commands import CommandState, CommandTracker
from pooldesk.core.devices import DeviceStore
from pooldesk.core.models import DeviceInfo, MqttCredentials
from pooldesk.core.mqtt_link import MqttLink
from tests.app.helpers import FakeController, Mosquitto
from tests.support.waiting import wait_until

ME = "users/john"
OWN = DeviceInfo("ESP-A1B2C3", "Back yard", f"{ME}/devices/esp-a1b2c3")
SHARED = DeviceInfo(
    "ESP-B2C3D4", "Alice's pool", "users/alice/devices/esp-b2c3d4", owner="alice", role="operator"
)


@pytest.fixture
def broker(tmp_path: Path):
    mosquitto = Mosquitto(tmp_path)
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


class Dashboard:
    """The store, link and commands wired as the dashboard wires them."""

    def __init__(self, port: int, devices: list[DeviceInfo]) -> None:
        self.store = DeviceStore()
        self.store.topic_prefix = ME
        self.store.load(devices)
        self.topics: list[str] = []  # every topic the link delivered
        creds = MqttCredentials("dash", "x", f"dash-{port}", ME, f"mqtt://127.0.0.1:{port}")

        async def provider() -> MqttCredentials:
            return creds

        def deliver(topic: str, payload: bytes, retained: bool) -> None:
            self.topics.append(topic)
            self.store.handle(topic, payload, retained)

        self.link = MqttLink(
            provider,
            lambda c: self.store.subscriptions(c.topic_prefix),
            on_message=deliver,
            backoff_min=0.1,
            backoff_max=0.5,
        )
        self.store.set_link_up(True)
        self.commands = CommandTracker(self.store, self.link.publish, timeout=5)

    def reload(self, devices: list[DeviceInfo]) -> None:
        """What the dashboard does with a fresh `GET /api/devices`."""
        self.store.load(devices)
        self.link.update_subscriptions()


async def test_a_shared_device_is_live_and_switchable_under_its_owners_prefix(broker) -> None:
    alice_pool = FakeController(broker.port, SHARED.topic_prefix)
    alice_pool.start()
    dash = Dashboard(broker.port, [OWN, SHARED])
    dash.link.start()
    try:
        shared = dash.store.devices["esp-b2c3d4"]
        await wait_until(lambda: shared.online is True, what="the shared device online")
        assert shared.owner == "alice"
        assert shared.can_control
        alice_pool.telemetry(24.5)
        await wait_until(lambda: shared.water_c == 24.5, what="its temperature")
        command = dash.commands.switch_pump("esp-b2c3d4", True)
        await wait_until(lambda: command.state is CommandState.CONFIRMED, what="confirmed")
        assert alice_pool.commands[-1]["cmd_id"] == command.cmd_id  # reached alice's prefix
        assert shared.pump is not None
        assert shared.pump.on is True
        assert "esp-b2c3d4" in dash.store.devices
        assert "esp-a1b2c3" in dash.store.devices  # the own device stays
    finally:
        alice_pool.stop()
        await dash.link.stop()


async def test_subscriptions_follow_shares_that_start_and_end(broker) -> None:
    alice_pool = FakeController(broker.port, SHARED.topic_prefix)
    alice_pool.start()
    dash = Dashboard(broker.port, [OWN])
    dash.link.start()
    try:
        await wait_until(lambda: dash.link.connected, what="connected")
        await wait_until(lambda: dash.link.subscribed, what="own devices subscribed")
        assert not any(t.startswith("users/alice/") for t in dash.topics)
        # Accepted: the next device list has alice's pool; its retained state arrives on the
        # live connection, no reconnect.
        dash.reload([OWN, SHARED])
        shared = dash.store.devices["esp-b2c3d4"]
        await wait_until(lambda: shared.online is True, what="the newly shared device online")
        # Ended: the list drops it; the link stops listening there.
        dash.reload([OWN])
        await wait_until(
            lambda: (
                not dash.link.leaving
                and not any(t.startswith("users/alice/") for t in dash.link.subscribed)
            ),
            what="unsubscribed (the broker acknowledged)",
        )
        assert "esp-b2c3d4" not in dash.store.devices
        heard = len(dash.topics)
        alice_pool.telemetry(20.0)
        own_pool = FakeController(broker.port, OWN.topic_prefix)  # a later message, as a marker
        own_pool.start()
        try:
            own = dash.store.devices["esp-a1b2c3"]
            await wait_until(lambda: own.online is True, what="the marker")
        finally:
            own_pool.stop()
        later = dash.topics[heard:]
        assert not any(t.startswith("users/alice/") for t in later), later
        assert "esp-b2c3d4" not in dash.store.devices
    finally:
        alice_pool.stop()
        await dash.link.stop()


def test_a_viewer_cannot_control_and_a_moved_device_starts_afresh() -> None:
    store = DeviceStore()
    store.topic_prefix = ME
    viewer = DeviceInfo("ESP-C3D4E5", "Pool", "users/alice/devices/esp-c3d4e5", "online", None,
                        "alice", "viewer")  # fmt: skip
    store.load([viewer])
    device = store.devices["esp-c3d4e5"]
    assert device.shared
    assert not device.can_control
    store.handle("users/alice/devices/esp-c3d4e5/status", b"online", retained=True)
    assert device.online is True
    # Handed over to this user: a new prefix, nothing carried over from the old one.
    mine = DeviceInfo("ESP-C3D4E5", "Pool", f"{ME}/devices/esp-c3d4e5", owner="john")
    store.load([mine])
    moved = store.devices["esp-c3d4e5"]
    assert moved.online is None
    assert not moved.shared
    assert moved.can_control
    store.handle("users/alice/devices/esp-c3d4e5/status", b"offline", retained=True)
    assert moved.online is None  # the old prefix is not this device's any more
    assert store.device_prefix("esp-c3d4e5") == f"{ME}/devices/esp-c3d4e5"


async def test_a_removed_devices_retained_state_cleared_late_brings_no_card_back(broker) -> None:
    """The server answers a removal before the broker has cleared the device's retained state
    when that takes long: the clears then reach a dashboard that already dropped the card."""
    other = DeviceInfo("ESP-C3D4E5", "Front", f"{ME}/devices/esp-c3d4e5")
    removed_pool = FakeController(broker.port, OWN.topic_prefix)
    removed_pool.start()
    other_pool = FakeController(broker.port, other.topic_prefix)
    other_pool.start()
    dash = Dashboard(broker.port, [OWN, other])
    changes: list[tuple[str, str]] = []
    dash.store.subscribe(lambda key, what: changes.append((key, what)))
    dash.link.start()
    try:
        gone = dash.store.devices["esp-a1b2c3"]
        await wait_until(lambda: gone.online is True, what="the device online")
        removed_pool.stop()
        dash.store.remove("esp-a1b2c3")  # the answer to DELETE /api/devices/ESP-A1B2C3
        for sub in ("status", "pump/state", "schedule", "alert/freeze"):  # the late clears
            other_pool.client.publish(f"{OWN.topic_prefix}/{sub}", b"", qos=1, retain=True)
        other_pool.telemetry(21.5)  # a later message, as a marker
        front = dash.store.devices["esp-c3d4e5"]
        await wait_until(lambda: front.water_c == 21.5, what="the marker")
        assert "esp-a1b2c3" not in dash.store.devices
        assert ("esp-a1b2c3", "added") not in changes
    finally:
        other_pool.stop()
        await dash.link.stop()
