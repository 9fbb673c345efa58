"""The app with the real firmware (pooldesk_firmware/sim runs the unchanged device code) on the
backend's managed Mosquitto, both with the logins the backend issued: the device comes online,
reports its water temperature, and a click on the card switches its relay, confirmed by the
firmware's cmd_id echo; a power cut turns the card offline through the firmware's will; in
freeze protection the card says so with the water's temperature and a refused "Turn off" is
worded from the firmware's refusal code; a controller handed over goes live on the new owner's
dashboard."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from pooldesk.core.backend_client import BackendClient
from pooldesk_firmware.sim.runner import SimulatedController
from tests.app.helpers import switch_pump, unique_user
from tests.support.waiting import wait_until


async def test_switch_a_simulated_controller(make_app, backend, qtbot, tmp_path) -> None:
    app, user = await _signed_in(make_app, backend)
    key = user["device_id"].lower()
    card = app.window.dashboard_view.cards[key]

    sim = await _bound_controller(app.session.client, user, tmp_path)
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


async def test_freeze_protection_is_said_from_the_firmwares_codes(
    make_app, backend, qtbot, tmp_path
) -> None:
    """Near-freezing water: the firmware's `freeze` alert is shown with the temperature from its
    `water_c` field, and its refusal to turn the pump off (code `freeze_active`) in the app's
    sentence, not the firmware's English."""
    app, user = await _signed_in(make_app, backend)
    key = user["device_id"].lower()
    card = app.window.dashboard_view.cards[key]
    sim = await _bound_controller(app.session.client, user, tmp_path)
    sim.device.water.set(2.0)
    await sim.start()
    try:
        alert = "⚠ Freeze protection is running (water at 2.0 °C)."
        await wait_until(  # beside it, perhaps, "no network time yet" for a while
            lambda: alert in card.alerts.text().splitlines(), within=30, what="the freeze alert"
        )
        await wait_until(lambda: card.toggle.text() == "Turn off", what="pumping against frost")
        assert sim.relay_on
        switch_pump(app, card, qtbot)
        refused = "The controller refused: freeze protection is running and keeps the pump on."
        await wait_until(lambda: card.message.text() == refused, what="the refusal on the card")
        assert sim.relay_on
        assert card.toggle.text() == "Turn off"
    finally:
        await sim.stop()


async def _signed_in(make_app, backend):
    """A fresh user with one device, signed in to a started app whose card for it is shown."""
    user = unique_user()
    client = BackendClient(backend.url)
    await client.register(user["username"], user["email"], user["password"], user["device_id"])
    await client.aclose()
    # the real timeout: commands carry a deadline, and a starved simulator may take a while
    app = make_app(backend.url, command_timeout=8.0)
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    await wait_until(lambda: user["device_id"].lower() in app.window.dashboard_view.cards)
    return app, user


async def test_a_controller_handed_over_goes_live_on_the_new_owners_dashboard(
    make_app, backend, qtbot, tmp_path
) -> None:
    """The whole hand-over as the buyer sees it (docs/sharing.md): accepted in the inbox, the
    real firmware takes its new login over its current connection, and the card appears on the
    buyer's dashboard, live under the buyer's prefix, and switches the pump; the seller's list
    no longer has it."""
    seller, buyer = unique_user(), unique_user()
    seller_client = BackendClient(backend.url)
    await seller_client.register(
        seller["username"], seller["email"], seller["password"], seller["device_id"]
    )
    await seller_client.login(seller["username"], seller["password"])
    buyer_client = BackendClient(backend.url)
    await buyer_client.register(buyer["username"], buyer["email"], buyer["password"], None)
    await buyer_client.aclose()
    key = seller["device_id"].lower()
    sim = await _bound_controller(seller_client, seller, tmp_path)
    sim.device.water.set(27.0)
    await sim.start()
    try:
        await wait_until(
            lambda: sim.status[0] == "mqtt_connected", within=30, what="seller's unit up"
        )
        await seller_client.offer_transfer(seller["device_id"], buyer["username"], "keep")
        app = make_app(backend.url, command_timeout=8.0)
        await app.start()
        await app.session.sign_in(buyer["username"], buyer["password"])
        view = app.window.dashboard_view
        await wait_until(lambda: app.dashboard.link and app.dashboard.link.connected, what="live")
        assert not view.cards
        await wait_until(lambda: view.inbox_button.text() == "Inbox (1)", what="the offer")
        qtbot.mouseClick(view.inbox_button, Qt.MouseButton.LeftButton)
        inbox = app.dashboard.people.inbox
        await wait_until(lambda: inbox.buttons, what="the offer listed")
        ((accept, _decline),) = inbox.buttons.values()
        qtbot.mouseClick(accept, Qt.MouseButton.LeftButton)

        await wait_until(lambda: key in view.cards, within=60, what="the card on the buyer's side")
        card = view.cards[key]
        await wait_until(lambda: "Online" in card.status.text(), within=30, what="online")
        await wait_until(lambda: "27.0 °C" in card.temperature.text(), within=30, what="water")
        stored = sim.stored_config()["binding"]
        assert stored["topic_prefix"] == f"users/{buyer['username']}/devices/{key}"
        assert not card.shared.isVisible()  # the buyer's own, not "Shared by …"
        await wait_until(lambda: card.toggle.isEnabled(), what="pump state known")
        switch_pump(app, card, qtbot)
        await wait_until(lambda: card.toggle.text() == "Turn off", what="confirmed by firmware")
        assert sim.relay_on
        # the unit answers on its new prefix as soon as it has moved; the backend's move of
        # the row follows that answer
        await wait_until(
            lambda: _listed(seller_client), within=15, what="gone from the seller's list"
        )
    finally:
        await sim.stop()
        await seller_client.aclose()


async def _listed(client: BackendClient) -> bool:
    """True once the account lists no device."""
    return not await client.devices()


async def _bound_controller(
    client: BackendClient, user: dict[str, str], tmp_path: Path
) -> SimulatedController:
    """The user's controller, bound as the wizard binds it: the device login the backend issues
    for its managed broker."""
    key = user["device_id"].lower()
    mac = "24:0A:C4:" + ":".join(key[4:][i : i + 2] for i in (0, 2, 4)).upper()
    issued = await client.device_credentials(user["device_id"])
    binding = {
        "ssid": "PoolNet", "password": "poolpass123",
        "broker_url": issued["brokerUrl"], "mqtt_user": issued["mqttUser"],
        "mqtt_password": issued["mqttPassword"], "client_id": issued["clientId"],
        "topic_prefix": issued["topicPrefix"], "username": user["username"], "ca_cert": None,
    }  # fmt: skip
    return SimulatedController(tmp_path / "flash", mac=mac, binding=binding)
