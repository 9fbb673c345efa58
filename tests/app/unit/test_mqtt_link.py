"""The MQTT link, device model and command tracking against a real Mosquitto and a paho client
that publishes like a controller."""

from __future__ import annotations

from pathlib import Path

import pytest

from pooldesk.core.commands import NO_RESPONSE, CommandState, CommandTracker
from pooldesk.core.devices import SUBSCRIPTIONS, DeviceStore
from pooldesk.core.failures import Code, Failure, failure
from pooldesk.core.models import DeviceInfo, MqttCredentials
from pooldesk.core.mqtt_link import LinkState, MqttLink
from tests.app.helpers import FakeController, Mosquitto
from tests.support.waiting import assert_nothing_arrives, wait_until

USER_PREFIX = "users/john"
DEVICE_PREFIX = f"{USER_PREFIX}/devices/esp-a1b2c3"


@pytest.fixture
def broker(tmp_path: Path):
    mosquitto = Mosquitto(tmp_path)
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


def credentials_for(port: int, password: str = "x", user: str = "dash") -> MqttCredentials:  # noqa: S107
    return MqttCredentials(
        user=user,
        password=password,
        client_id=f"dash-{port}",
        topic_prefix=USER_PREFIX,
        broker_url=f"mqtt://127.0.0.1:{port}",
    )


class Dashboard:
    """The core pieces wired the way the app wires them."""

    def __init__(self, provider, *, timeout: float = 8.0) -> None:
        self.store = DeviceStore()
        self.store.topic_prefix = USER_PREFIX
        self.store.load([DeviceInfo("ESP-A1B2C3", "Back yard", DEVICE_PREFIX)])
        self.states: list[LinkState] = []
        self.link = MqttLink(
            provider,
            SUBSCRIPTIONS,
            on_message=self.store.handle,
            on_status=self._status,
            backoff_min=0.1,
            backoff_max=0.5,
        )
        self.commands = CommandTracker(self.store, self.link.publish, timeout=timeout)

    def _status(self, status) -> None:
        self.states.append(status.state)
        self.store.set_link_up(status.state is LinkState.CONNECTED)

    @property
    def device(self):
        return self.store.devices["esp-a1b2c3"]


async def fixed(creds: MqttCredentials) -> MqttCredentials:
    return creds


async def test_device_online_pump_and_temperature_arrive(broker: Mosquitto) -> None:
    controller = FakeController(broker.port, DEVICE_PREFIX)
    controller.start()
    dash = Dashboard(lambda: fixed(credentials_for(broker.port)))
    dash.link.start()
    try:
        await wait_until(lambda: dash.link.connected, what="connected")
        await wait_until(lambda: dash.device.online is True, what="device online")
        await wait_until(lambda: dash.device.pump is not None, what="pump state")
        assert dash.device.pump.on is False
        assert dash.device.pump.mode == "schedule"
        assert not dash.device.pump_stale()
        controller.telemetry(26.5)
        controller.alert("sensor-air", "air sensor not responding")
        await wait_until(lambda: dash.device.water_c == 26.5, what="temperature")
        await wait_until(lambda: "sensor-air" in dash.device.alerts, what="alert")
        assert dash.device.alerts["sensor-air"].message == "air sensor not responding"
        controller.alert("sensor-air", None)
        await wait_until(lambda: not dash.device.alerts, what="alert cleared")
    finally:
        controller.stop()
        await dash.link.stop()
    assert dash.link.status.state is LinkState.IDLE


async def test_toggle_is_confirmed_by_the_cmd_id_echo(broker: Mosquitto) -> None:
    controller = FakeController(broker.port, DEVICE_PREFIX)
    controller.start()
    dash = Dashboard(lambda: fixed(credentials_for(broker.port)))
    seen: list[CommandState] = []
    dash.commands.subscribe(lambda c: seen.append(c.state))
    dash.link.start()
    try:
        await wait_until(lambda: dash.device.pump is not None)
        command = dash.commands.switch_pump("esp-a1b2c3", True)
        assert command.state is CommandState.PENDING
        await wait_until(lambda: command.state is CommandState.CONFIRMED, what="confirmed")
        assert dash.device.pump.on is True
        assert dash.device.pump.mode == "manual"
        assert controller.commands[-1]["cmd_id"] == command.cmd_id
        timer = dash.commands.run_for("esp-a1b2c3", 3600)
        await wait_until(lambda: timer.state is CommandState.CONFIRMED)
        assert controller.commands[-1]["duration_s"] == 3600
        assert dash.device.pump.mode == "timer"
        assert seen == [CommandState.PENDING, CommandState.CONFIRMED] * 2
    finally:
        controller.stop()
        await dash.link.stop()


async def test_no_echo_means_the_controller_did_not_respond(broker: Mosquitto) -> None:
    controller = FakeController(broker.port, DEVICE_PREFIX)
    controller.start()
    controller.respond = False
    dash = Dashboard(lambda: fixed(credentials_for(broker.port)), timeout=0.5)
    dash.link.start()
    try:
        await wait_until(lambda: dash.device.pump is not None)
        command = dash.commands.switch_pump("esp-a1b2c3", True)
        await wait_until(lambda: controller.commands, what="command delivered")
        await wait_until(lambda: command.state is CommandState.FAILED, what="timeout")
        assert command.message == NO_RESPONSE
        assert dash.device.pump.on is False  # the shown state is still the device's
        assert dash.commands.pending("esp-a1b2c3") is None
    finally:
        controller.stop()
        await dash.link.stop()


async def test_command_without_a_connection_fails_at_once() -> None:
    dash = Dashboard(lambda: fixed(credentials_for(1)))
    command = dash.commands.switch_pump("esp-a1b2c3", True)
    assert command.state is CommandState.FAILED
    assert "Not connected" in str(command.message)


async def test_vanished_device_turns_offline_and_values_go_stale(broker: Mosquitto) -> None:
    controller = FakeController(broker.port, DEVICE_PREFIX, keepalive=2)
    controller.start()
    dash = Dashboard(lambda: fixed(credentials_for(broker.port)))
    dash.link.start()
    try:
        await wait_until(lambda: dash.device.online is True and dash.device.pump is not None)
        controller.telemetry(25.0)
        await wait_until(lambda: dash.device.water_c == 25.0)
        assert not dash.device.water_stale()
        controller.vanish()
        await wait_until(lambda: dash.device.online is False, within=6, what="offline")
        assert dash.device.pump_stale()
        assert dash.device.water_stale()
        assert dash.device.water_c == 25.0  # still known, but shown as stale
        # It comes back: old telemetry stays stale until fresh values arrive.
        again = FakeController(broker.port, DEVICE_PREFIX)
        again.start()
        try:
            await wait_until(lambda: dash.device.online is True)
            await wait_until(lambda: not dash.device.pump_stale(), what="fresh pump state")
            assert dash.device.water_stale()
            again.telemetry(25.5)
            await wait_until(lambda: not dash.device.water_stale())
        finally:
            again.stop()
    finally:
        await dash.link.stop()


async def test_broker_restart_reconnects_and_resubscribes(broker: Mosquitto) -> None:
    dash = Dashboard(lambda: fixed(credentials_for(broker.port)))
    dash.link.start()
    try:
        await wait_until(lambda: dash.link.connected)
        broker.stop()
        await wait_until(
            lambda: dash.link.status.state is LinkState.RECONNECTING, what="link notices the loss"
        )
        assert not dash.store.link_up
        # the broker comes back while the link is between attempts, not before its first retry
        await wait_until(lambda: dash.link.status.retry_in, what="a retry scheduled")
        broker.start()
        await wait_until(lambda: dash.link.connected, within=10, what="reconnected")
        controller = FakeController(broker.port, DEVICE_PREFIX)
        controller.start()  # nothing retained survived: only a fresh subscription sees this
        try:
            await wait_until(lambda: dash.device.online is True, what="resubscribed")
            command = dash.commands.switch_pump("esp-a1b2c3", True)
            await wait_until(lambda: command.state is CommandState.CONFIRMED)
        finally:
            controller.stop()
    finally:
        await dash.link.stop()


async def test_refused_login_fetches_fresh_credentials_once(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path, passwords={"dash": "right-password"})
    broker.start()
    calls: list[str] = []
    passwords = iter(["stale-password", "right-password"])

    async def provider() -> MqttCredentials:
        password = next(passwords)
        calls.append(password)
        return credentials_for(broker.port, password=password)

    dash = Dashboard(provider)
    dash.link.start()
    try:
        await wait_until(lambda: dash.link.connected, what="connected with fresh credentials")
        assert calls == ["stale-password", "right-password"]
    finally:
        await dash.link.stop()
        broker.stop()


async def test_refused_twice_stops_and_says_so(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path, passwords={"dash": "right-password"})
    broker.start()
    calls = 0

    async def provider() -> MqttCredentials:
        nonlocal calls
        calls += 1
        return credentials_for(broker.port, password="wrong-password")

    dash = Dashboard(provider)
    dash.link.start()
    try:
        await wait_until(lambda: dash.link.status.state is LinkState.REFUSED)
        assert calls == 2
        assert dash.link.status.detail == failure(Code.BROKER_REFUSED_LOGIN)
        # it does not hammer the broker or the backend: no further call within a retry's time
        await assert_nothing_arrives(lambda: calls > 2, within=1.0, what="another login attempt")
    finally:
        await dash.link.stop()
        broker.stop()


async def test_unreachable_broker_retries_with_backoff() -> None:
    from tests.support.ports import free_port

    dash = Dashboard(lambda: fixed(credentials_for(free_port())))
    dash.link.start()
    try:
        await wait_until(lambda: dash.link.status.retry_in is not None, what="retry scheduled")
        assert dash.link.status.state is LinkState.RECONNECTING
        detail = dash.link.status.detail
        assert isinstance(detail, Failure)
        assert detail.code is Code.BROKER_UNREACHABLE
    finally:
        await dash.link.stop()


async def test_plain_mqtt_to_a_remote_host_needs_the_insecure_setting() -> None:
    creds = MqttCredentials("u", "p", "c", USER_PREFIX, "mqtt://broker.example.com:1883")
    dash = Dashboard(lambda: fixed(creds))
    dash.link.start()
    try:
        await wait_until(lambda: dash.link.status.state is LinkState.FAILED)
        assert dash.link.status.detail == failure(
            Code.URL_NOT_ENCRYPTED, scheme="mqtt", host="broker.example.com"
        )
    finally:
        await dash.link.stop()


@pytest.mark.parametrize("scheme", ["ws", "mqtts", "wss"])
async def test_websocket_and_tls_transports(tmp_path: Path, scheme: str) -> None:
    broker = Mosquitto(tmp_path, transports=True)
    broker.start()
    port = {"ws": broker.ws_port, "mqtts": broker.tls_port, "wss": broker.wss_port}[scheme]
    host = "127.0.0.1" if scheme == "ws" else "localhost"  # the certificate names localhost
    creds = MqttCredentials(
        "dash",
        "x",
        f"dash-{scheme}",
        USER_PREFIX,
        f"{scheme}://{host}:{port}/mqtt",
        ca_cert=broker.ca_pem or None,
    )
    controller = FakeController(broker.port, DEVICE_PREFIX)
    dash = Dashboard(lambda: fixed(creds))
    dash.link.start()
    try:
        await wait_until(lambda: dash.link.connected, what=f"connected over {scheme}")
        controller.start()
        await wait_until(lambda: dash.device.pump is not None)
        command = dash.commands.switch_pump("esp-a1b2c3", True)
        await wait_until(lambda: command.state is CommandState.CONFIRMED)
    finally:
        controller.stop()
        await dash.link.stop()
        broker.stop()


async def test_tls_broker_with_an_untrusted_certificate_is_refused(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path, transports=True)
    broker.start()
    creds = MqttCredentials(
        "dash", "x", "dash-tls", USER_PREFIX, f"mqtts://localhost:{broker.tls_port}"
    )  # no caCert: system trust
    dash = Dashboard(lambda: fixed(creds))
    dash.link.start()
    try:
        await wait_until(lambda: dash.link.status.retry_in is not None, what="a failed attempt")
        assert not dash.link.connected
        assert "certificate not trusted" in str(dash.link.status.detail)
    finally:
        await dash.link.stop()
        broker.stop()
