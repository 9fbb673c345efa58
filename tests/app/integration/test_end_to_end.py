"""End to end with nothing stood in: the backend issues the app's broker login and the
device's login for its managed Mosquitto (broker rights enforced), and the firmware simulator
runs the unchanged device code with those credentials."""

from __future__ import annotations

from pooldesk.core.backend_client import BackendClient
from pooldesk.core.mqtt_link import LinkState
from pooldesk_firmware.sim.runner import SimulatedController
from tests.app.helpers import switch_pump, unique_user
from tests.support.waiting import wait_until


def sim_binding(creds: dict, username: str) -> dict:
    return {
        "ssid": "PoolNet", "password": "poolpass123", "broker_url": creds["brokerUrl"],
        "mqtt_user": creds["mqttUser"], "mqtt_password": creds["mqttPassword"],
        "client_id": creds["clientId"], "topic_prefix": creds["topicPrefix"],
        "username": username, "ca_cert": creds.get("caCert"),
    }  # fmt: skip


async def test_live_pump_over_the_managed_broker_then_revocation(
    make_app, backend, qtbot, tmp_path
) -> None:
    user = unique_user()
    owner = BackendClient(backend.url)
    await owner.register(user["username"], user["email"], user["password"], user["device_id"])
    await owner.login(user["username"], user["password"])
    device_creds = await owner.device_credentials(user["device_id"])

    app = make_app(backend.url, command_timeout=8.0)  # logins from the backend itself
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    key = user["device_id"].lower()
    await wait_until(lambda: key in app.window.dashboard_view.cards)
    card = app.window.dashboard_view.cards[key]
    await wait_until(lambda: app.dashboard.link and app.dashboard.link.connected, what="live")
    assert app.dashboard.link.credentials.topic_prefix == f"users/{user['username']}"

    mac = "24:0A:C4:" + ":".join(key[4:][i : i + 2] for i in (0, 2, 4)).upper()
    sim = SimulatedController(
        tmp_path / "flash", mac=mac, binding=sim_binding(device_creds, user["username"])
    )
    sim.device.water.set(24.0)
    await sim.start()
    try:
        await wait_until(lambda: "Online" in card.status.text(), within=20, what="online")
        await wait_until(lambda: "24.0 °C" in card.temperature.text(), within=20)
        await wait_until(lambda: card.toggle.isEnabled())
        switch_pump(app, card, qtbot)
        await wait_until(lambda: card.toggle.text() == "Turn off", what="confirmed")
        assert sim.relay_on

        # Another computer ends this app's session: the broker cuts the app's login, the app
        # cannot get a new one, and it returns to sign-in with the server's message.
        [mine] = [s for s in await owner.sessions() if not s.current]
        await owner.end_session(mine.id)
        view = app.window.sign_in_view
        await wait_until(lambda: app.window.page is view, within=20, what="back at sign-in")
        assert "Sign in again" in view.notice.text()
        assert app.session.store.load() is None
        assert (
            app.dashboard.link is None or app.dashboard.link.status.state is not LinkState.CONNECTED
        )
    finally:
        await sim.stop()
        await owner.aclose()
