"""Every message the real firmware (in the simulator, on a real Mosquitto) and the app's
command sender put on the wire matches the contract: topic, retained flag and JSON Schema
(pooldesk_contract/mqtt.schema.json)."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import jsonschema
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.subscribeoptions import SubscribeOptions

from pooldesk.core.commands import CommandState, CommandTracker
from pooldesk.core.devices import DeviceStore
from pooldesk_contract import topics
from pooldesk_contract.schema import topic_schema
from pooldesk_firmware.sim.runner import SimulatedController
from pooldesk_firmware.tools.release import read_bundle
from tests.firmware.conftest import PREFIX, make_binding
from tests.firmware.test_ota_swap import ENDED, Session
from tests.support import ota

USER_PREFIX = "users/john"
DEVICE_KEY = PREFIX.rsplit("/", 1)[1]


class Wire:
    """An MQTT v5 client that sees every message under `users/` with its retain flag as
    published (retain-as-published), and publishes what the app sends."""

    def __init__(self, port: int) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id="wire", protocol=mqtt.MQTTv5
        )
        self.client.on_message = self._message
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_connect = lambda c, *_: c.subscribe(
            "users/#", options=SubscribeOptions(qos=1, retainAsPublished=True)
        )
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self._subscribed.wait(5), "the broker did not confirm the subscription"

    def _message(self, _c: object, _u: object, m: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((m.topic, m.payload, bool(m.retain)))

    def since(self, start: int) -> list[tuple[str, bytes, bool]]:
        with self._lock:
            return self.messages[start:]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _topic_of(topic: str) -> topics.Topic:
    named = topics.topic_named(topic.removeprefix(PREFIX + "/"))
    assert named is not None, f"{topic} is no topic of the contract"
    return named


def _check(topic: str, payload: bytes, retained: bool) -> str:
    """Assert one message keeps the contract; return its topic's name."""
    spec = _topic_of(topic)
    assert retained == spec.retained, f"{topic}: retain flag {retained}"
    if spec.name == "status":
        jsonschema.validate(payload.decode(), topic_schema("status"))
    elif spec.name == "ota/data":  # one line of JSON, a newline, the chunk's raw bytes
        head, newline, _chunk = payload.partition(b"\n")
        assert newline, f"{topic}: no newline after the JSON line"
        jsonschema.validate(json.loads(head), topic_schema(spec.name))
    elif not (payload == b"" and spec.retained):  # an empty retained payload clears
        jsonschema.validate(json.loads(payload), topic_schema(spec.name))
    return spec.name


async def test_firmware_and_app_messages_keep_the_contract(tmp_path, broker):
    wire = Wire(broker)
    store = DeviceStore()
    store.topic_prefix = USER_PREFIX
    sent: list[tuple[str, bytes]] = []

    def publish(topic: str, payload: bytes) -> bool:
        sent.append((topic, payload))
        wire.client.publish(topic, payload, qos=1, retain=False)
        return True

    tracker = CommandTracker(store, publish)
    fed = 0

    async def settled(command, within: float = 15.0) -> CommandState:
        """Feed what the wire saw to the app's store until the command is no longer pending."""
        nonlocal fed
        deadline = time.monotonic() + within
        while command.state is CommandState.PENDING:
            for topic, payload, retained in wire.since(fed):
                fed += 1
                store.handle(topic, payload, retained)
            assert time.monotonic() < deadline, f"{command} still pending"
            await asyncio.sleep(0.02)
        return command.state

    try:
        async with SimulatedController(tmp_path / "flash", binding=make_binding(broker)) as sim:
            await sim.wait_until(lambda: sim.online)
            assert await settled(tracker.switch_pump(DEVICE_KEY, True)) is CommandState.CONFIRMED
            assert await settled(tracker.run_for(DEVICE_KEY, 600)) is CommandState.CONFIRMED
            window = {"start": "22:00", "end": "02:00", "days": ["fri", "sat"]}
            scheduled = tracker.set_schedule(DEVICE_KEY, [window], "Europe/Madrid")
            assert await settled(scheduled) is CommandState.CONFIRMED
            assert await settled(tracker.follow_schedule(DEVICE_KEY)) is CommandState.CONFIRMED

            sim.device.water.ramp(6.0, 1.0, 0.5, sim.device.clock)  # freeze: an alert
            await sim.wait_until(lambda: sim.relay_on, within=15)
            refused = tracker.switch_pump(DEVICE_KEY, False)  # refused: an event
            assert await settled(refused) is CommandState.REJECTED
    finally:
        wire.close()

    seen = {_check(topic, payload, retained) for topic, payload, retained in wire.since(0)}
    device_sent = {"status", "pump/state", "telemetry", "schedule", "alert/+", "event"}
    assert device_sent <= seen  # every kind of device message was checked, not just some
    assert {"pump/set", "schedule/set"} <= seen
    for topic, payload in sent:
        assert _topic_of(topic).publisher == "dashboard"
        jsonschema.validate(json.loads(payload), topic_schema(_topic_of(topic).name))
    assert len(sent) == 5


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("contract-ota")
    key, pub = ota.keypair(folder)
    return read_bundle(ota.build(folder, key, "0.5.0").read_bytes()), pub


@pytest.mark.timeout(120)
async def test_a_firmware_update_keeps_the_contract(tmp_path, broker, release):
    """The backend's update transport and the firmware's side of it: offer, chunk requests,
    chunks and progress, each on its topic, retained as the contract says, in its schema."""
    bundle, pub = release
    wire = Wire(broker)
    try:
        sim = SimulatedController(tmp_path / "dev", binding=make_binding(broker), ota_key=pub)
        async with sim:
            await sim.wait_until(lambda: sim.online)
            async with Session(broker, bundle, "contract-1") as session:
                assert (await session.wait(ENDED, within=90))["state"] == "confirmed"
    finally:
        wire.close()
    seen = {_check(topic, payload, retained) for topic, payload, retained in wire.since(0)}
    assert {"ota/offer", "ota/get", "ota/data", "ota/status"} <= seen
