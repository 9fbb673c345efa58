"""The app with the real firmware (pooldesk_firmware/sim runs the unchanged device code) on the
backend's managed Mosquitto, both with the logins the backend issued: the device comes online,
reports its water temperature, and a click on the card switches its relay, confirmed by the
firmware's cmd_id echo; a power cut turns the card offline through the firmware's will."""

from __future__ import annotations

from pooldesk.core.backend_client import BackendClient
from pooldesk_firmware.sim.runner import SimulatedController
from tests.app.helpers import switch_pump, unique_user
from tests.support.waiting import wait_until


async def test_switch_a_simulated_controller(make_app, backend, qtbot, tmp_path) -> None:
    user = unique_user()
    client = BackendClient(backend.url)
    await client.register(user["username"], user["email"], user["password"], user["device_id"])
    await client.aclose()
    # the real timeout: commands carry a deadline, and a starved simulator may take a while
    app = make_app(backend.url, command_timeout=8.0)
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    key = user["device_id"].lower()
    await wait_until(lambda: key in app.window.dashboard_view.cards)
    card = app.window.dashboard_view.cards[key]

    mac = "24:0A:C4:" + ":".join(key[4:][i : i + 2] for i in (0, 2, 4)).upper()
    # the binding the wizard writes: the device login the backend issues for its managed broker
    issued = await app.session.client.device_credentials(user["device_id"])
    binding = {
        "ssid": "PoolNet", "password": "poolpass123",
        "broker_url": issued["brokerUrl"], "mqtt_user": issued["mqttUser"],
        "mqtt_password": issued["mqttPassword"], "client_id": issued["clientId"],
        "topic_prefix": issued["topicPrefix"], "username": user["username"], "ca_cert": None,
    }  # fmt: skip
    sim = SimulatedController(tmp_path / "flash", mac=mac, binding=binding)
    assert sim.device_id == user["device_id"]
    sim.device.water.set(28.5)
    await sim.start()
    try:
        await wait_until(lambda: "Online" in card.status.text(), within=15, what="online")
        await wait_until(lambda: "28.5 °C" in card.temperature.text(), within=15, what="water")
        await wait_until(lambda: card.toggle.isEnabled(), what="pump state known")
        assert not sim.relay_on
        switch_pump(app, card, qtbot)
        assert card.toggle.text() == "Turning on…"
        await wait_until(lambda: card.toggle.text() == "Turn off", what="confirmed by firmware")
        assert sim.relay_on
        assert card.message.text() == "Confirmed by the controller."
        assert "Pump on · manual" in card.pump.text()

        await sim.power_cut()
        await wait_until(lambda: "Offline" in card.status.text(), within=90, what="will")
        assert "(last known)" in card.pump.text()
    finally:
        await sim.stop()
