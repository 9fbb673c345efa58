"""The live dashboard against a real backend (accounts, devices) and a real Mosquitto, with a
paho client publishing like the controller."""

from __future__ import annotations

import asyncio
import json

import pytest
from PySide6.QtCore import Qt

from tests.app.helpers import now_iso, switch_pump
from tests.support.waiting import assert_nothing_arrives, wait_until


async def test_device_comes_online_and_shows_its_values(signed_in) -> None:
    app, key, controller, _ = signed_in
    card = app.window.dashboard_view.cards[key]
    assert "Live" in app.window.dashboard_view.connection.text()
    assert not card.toggle.isEnabled()  # no status yet: nothing to switch
    fake = controller()
    await wait_until(lambda: "Online" in card.status.text(), what="online")
    fake.telemetry(27.25)
    fake.alert("sensor-air", "air sensor not responding")
    await wait_until(
        lambda: "27.2 °C" in card.temperature.text() or "27.3" in card.temperature.text()
    )
    assert "last known" not in card.temperature.text()
    assert "Pump off · schedule" in card.pump.text()
    await wait_until(lambda: "air sensor not responding" in card.alerts.text())
    assert card.toggle.isEnabled()
    assert card.toggle.text() == "Turn on"


async def test_toggle_pending_then_confirmed(signed_in, qtbot) -> None:
    app, key, controller, _ = signed_in
    card = app.window.dashboard_view.cards[key]
    fake = controller()
    await wait_until(lambda: card.toggle.isEnabled())
    fake.respond = False  # hold the answer to see the pending state
    switch_pump(app, card, qtbot)
    assert card.toggle.text() == "Turning on…"
    assert not card.toggle.isEnabled()
    assert "Waiting for the controller" in card.message.text()
    await wait_until(lambda: fake.commands, what="command at the controller")
    fake.answer(fake.commands[-1])
    await wait_until(lambda: card.toggle.text() == "Turn off", what="confirmed")
    assert "Pump on · manual" in card.pump.text()
    assert card.message.text() == "Confirmed by the controller."


async def test_no_answer_reverts_with_the_controller_did_not_respond(signed_in, qtbot) -> None:
    app, key, controller, _ = signed_in
    app.dashboard.commands.timeout = 1.5  # the app gives up on an answer after 1.5 s
    card = app.window.dashboard_view.cards[key]
    fake = controller()
    await wait_until(lambda: card.toggle.isEnabled())
    fake.respond = False
    switch_pump(app, card, qtbot)
    assert card.toggle.text() == "Turning on…"
    await wait_until(lambda: card.toggle.text() == "Turn on", within=5, what="revert")
    assert card.message.text() == "The controller did not respond."
    assert "Pump off" in card.pump.text()
    assert fake.commands
    assert fake.commands[-1]["on"] is True


@pytest.mark.parametrize(
    ("said", "shown"),
    [
        ({}, "The controller refused: no reason given."),  # the app's own words
        (  # a code: the app's sentence, whatever English the controller wrote
            {"code": "freeze_active", "reason": "pump must run"},
            "The controller refused: freeze protection is running and keeps the pump on.",
        ),
        (  # a schedule check names its field
            {"code": "invalid", "field": "tz", "reason": "unknown time zone: Mars/Olympus"},
            "The controller refused: it does not know this time zone.",
        ),
        (
            {"code": "expired", "reason": "too late"},
            "The command reached the controller too late and was not carried out; nothing changed.",
        ),
        (  # older firmware, no code: its words as written, not matched against English
            {"reason": "freeze protection active"},
            "The controller refused: freeze protection active.",
        ),
        (  # newer firmware, a code this app does not know: its words too
            {"code": "valve_stuck", "reason": "valve stuck (new firmware)"},
            "The controller refused: valve stuck (new firmware).",
        ),
    ],
)
async def test_a_refused_command_says_why(signed_in, qtbot, said, shown) -> None:
    """The controller's refusal is worded from its code (docs/mqtt.md `command_rejected`); an
    event without a code this app knows shows the controller's reason as it wrote it, and one
    without either is said in the app's words."""
    app, key, controller, _ = signed_in
    card = app.window.dashboard_view.cards[key]
    fake = controller()
    await wait_until(lambda: card.toggle.isEnabled())
    fake.respond = False
    switch_pump(app, card, qtbot)
    await wait_until(lambda: fake.commands, what="command at the controller")
    event = {"type": "command_rejected", "cmd_id": fake.commands[-1]["cmd_id"], "ts": now_iso()}
    fake.client.publish(f"{fake.prefix}/event", json.dumps({**event, **said}), qos=1)
    await wait_until(lambda: card.message.text() == shown, what="the refusal on the card")


async def test_run_for_sends_a_timer(signed_in) -> None:
    app, key, controller, _ = signed_in
    card = app.window.dashboard_view.cards[key]
    fake = controller()
    await wait_until(lambda: card.run_for.isEnabled())
    card.run_actions[2 * 3600].trigger()
    await wait_until(lambda: "timer" in card.pump.text(), what="timer mode")
    assert fake.commands[-1]["mode"] == "timer"
    assert fake.commands[-1]["duration_s"] == 7200
    assert "Pump on" in card.pump.text()
    assert "(1 h 59 min left)" in card.pump.text() or "(2 h left)" in card.pump.text()
    assert drawn_color(card.pump_icon) == "#1b6e3a"  # the running pump's icon is green


def drawn_color(label) -> str:
    """The colour of an icon label's solid pixels."""
    image = label.pixmap().toImage()
    for y in range(image.height()):
        for x in range(image.width()):
            pixel = image.pixelColor(x, y)
            if pixel.alpha() == 255:
                return pixel.name()
    raise AssertionError("the icon is empty")


async def test_vanished_device_turns_offline_with_stale_values_and_a_notice(signed_in) -> None:
    app, key, controller, _ = signed_in
    card = app.window.dashboard_view.cards[key]
    fake = controller(keepalive=2)
    await wait_until(lambda: "Online" in card.status.text())
    fake.telemetry(26.0)
    await wait_until(lambda: "26.0 °C" in card.temperature.text())
    fake.vanish()
    await wait_until(lambda: "Offline" in card.status.text(), within=6, what="offline")
    assert "last seen" in card.status.text()
    assert "(last known)" in card.temperature.text()
    assert "(last known)" in card.pump.text()
    assert not card.toggle.isEnabled()
    assert any("offline" in title for title, _ in app.notices)


async def test_notifications_can_be_turned_off(signed_in, qtbot) -> None:
    app, key, controller, _ = signed_in
    card = app.window.dashboard_view.cards[key]
    qtbot.mouseClick(app.window.dashboard_view.account_button, Qt.MouseButton.LeftButton)
    app.window.account_view.notifications.setChecked(False)
    assert app.settings_store.load().notifications is False
    fake = controller()
    await wait_until(lambda: "Online" in card.status.text())
    fake.alert("pump-fault", "pump does not start")
    await wait_until(lambda: "pump does not start" in card.alerts.text())
    assert app.notices == []


async def test_broker_restart_reconnects_and_the_indicator_tells_the_truth(
    signed_in_on_plain_broker, broker
) -> None:
    app, key, controller, _ = signed_in_on_plain_broker
    indicator = app.window.dashboard_view.connection
    card = app.window.dashboard_view.cards[key]
    broker.stop()
    await wait_until(lambda: "Live" not in indicator.text(), what="indicator shows the loss")
    assert indicator.property("level") == "wait"
    # the broker comes back while the app is between attempts, not before its first retry
    await wait_until(lambda: "retrying in" in indicator.text(), what="a retry scheduled")
    broker.start()
    await wait_until(lambda: "Live" in indicator.text(), within=15, what="reconnected")
    controller()  # a fresh broker has nothing retained: only a live subscription sees this
    await wait_until(lambda: "Online" in card.status.text(), what="resubscribed")


async def test_rename_and_remove_with_confirmation(signed_in, backend) -> None:
    app, key, _controller, _user = signed_in
    dashboard = app.dashboard
    card = app.window.dashboard_view.cards[key]
    card.rename_action.trigger()
    dialog = dashboard.dialog
    dialog.field.setText("   ")
    assert not dialog.buttons.buttons()[0].isEnabled() or dialog.hint.isVisible()
    dialog.field.setText("Back yard")
    dialog._submit()
    await wait_until(lambda: card.name.text() == "Back yard", what="renamed")
    assert [d.name for d in await app.session.client.devices()] == ["Back yard"]

    card.remove_action.trigger()
    confirm = dashboard.dialog
    assert "Back yard" in confirm.findChildren(type(card.name))[0].text()
    confirm.reject()  # cancel: nothing happens
    # no event marks "nothing was removed": watch a window for the card to go
    removed = lambda: key not in app.window.dashboard_view.cards  # noqa: E731
    await assert_nothing_arrives(removed, within=0.5, what="the card's removal")
    assert [d.name for d in await app.session.client.devices()] == ["Back yard"]
    card.remove_action.trigger()
    dashboard.dialog.accept()
    await wait_until(lambda: key not in app.window.dashboard_view.cards, what="removed")
    assert await app.session.client.devices() == []


async def test_add_device_button_asks_for_the_wizard(signed_in, qtbot) -> None:
    app, _key, _controller, _ = signed_in
    asked = []
    app.dashboard.add_device_requested.connect(lambda: asked.append(True))
    qtbot.mouseClick(app.window.dashboard_view.add_button, Qt.MouseButton.LeftButton)
    assert asked == [True]


async def test_a_device_list_fetched_before_a_removal_does_not_bring_the_card_back(
    signed_in,
) -> None:
    """A periodic reload in flight when the user removes a device: its answer, read before the
    removal, arrives after it (a slow network)."""
    app, key, _controller, _user = signed_in
    dashboard, client = app.dashboard, app.session.client
    fetch = client.devices
    fetched, removed = asyncio.Event(), asyncio.Event()

    async def list_arriving_late():
        answer = await fetch()  # the real server's answer, from before the removal
        fetched.set()
        await removed.wait()
        return answer

    client.devices = list_arriving_late
    reload = asyncio.ensure_future(dashboard.reload_devices(background=True))
    await fetched.wait()
    client.devices = fetch
    await dashboard.remove(key)
    assert key not in app.window.dashboard_view.cards
    removed.set()
    await reload
    assert key not in app.window.dashboard_view.cards
    assert key not in dashboard.store.devices
