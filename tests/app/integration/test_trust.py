"""What a pool owner must be able to trust on the card: a command reported as failed does not
run later behind their back, and dialogs closed with Esc open again."""

from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QLabel

from pooldesk.core import api_types as api
from pooldesk.core.backend_client import BackendClient
from pooldesk_firmware.sim.runner import SimulatedController
from tests.app.helpers import FakeController, issued_device_login, switch_pump, unique_user
from tests.support.waiting import wait_until

LEFT = Qt.MouseButton.LeftButton


async def test_history_and_schedule_open_again_after_escape(signed_in, qtbot) -> None:
    app, key, controller, _ = signed_in
    controller()
    card = app.window.dashboard_view.cards[key]
    await wait_until(lambda: card.toggle.isEnabled(), what="online")
    for action, opened in (
        (card.history_action, app.dashboard.history_controllers),
        (card.schedule_action, app.dashboard.schedule_controllers),
    ):
        action.trigger()
        first = opened[key]
        await wait_until(lambda f=first: f.view.isVisible(), what="dialog shown")
        qtbot.keyClick(first.view, Qt.Key.Key_Escape)
        await wait_until(lambda o=opened: key not in o, what="closed by Esc")
        action.trigger()
        again = opened.get(key)
        assert again is not None
        assert again is not first
        await wait_until(lambda a=again: a.view.isVisible(), what="dialog shown again")
        again.close()
        await wait_until(lambda o=opened: key not in o, what="closed")


async def test_a_late_echo_clears_the_failure_and_shows_the_real_state(signed_in, qtbot) -> None:
    """A controller with no clock yet cannot judge the deadline and applies the command late:
    the red failure must give way to the state the controller reports."""
    app, key, controller, _ = signed_in
    app.dashboard.commands.timeout = 1.5  # the app gives up on an answer after 1.5 s
    card = app.window.dashboard_view.cards[key]
    fake = controller()
    await wait_until(lambda: card.toggle.isEnabled())
    fake.respond = False
    switch_pump(app, card, qtbot)
    await wait_until(lambda: card.toggle.text() == "Turn on", within=5, what="failed")
    assert card.message.text() == "The controller did not respond."
    assert "expires" in fake.commands[-1]
    fake.answer(fake.commands[-1])  # the pump switches on after all
    await wait_until(lambda: "Pump on" in card.pump.text(), what="the real state")
    assert card.toggle.text() == "Turn off"
    assert card.message.text() == "The controller carried out the command late."
    assert card.message.styleSheet() != "color: #b3261e;"  # not shown as an error


async def test_command_held_by_a_paused_broker_expires_at_the_controller(
    make_app, backend, broker, qtbot, tmp_path
) -> None:
    """Pause the real Mosquitto (SIGSTOP), click Turn on: the card reports the failure. Resume:
    the firmware receives the command after its deadline, refuses it and says so; the pump stays
    off and the card shows that nothing changed, without a stale red error."""
    user = unique_user()
    client = BackendClient(backend.url)
    await client.register(user["username"], user["email"], user["password"], user["device_id"])
    await client.aclose()
    app = make_app(backend.url, broker_port=broker.port, command_timeout=6.0)
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    key = user["device_id"].lower()
    await wait_until(lambda: key in app.window.dashboard_view.cards)
    card = app.window.dashboard_view.cards[key]
    mac = "24:0A:C4:" + ":".join(key[4:][i : i + 2] for i in (0, 2, 4)).upper()
    binding = {
        "ssid": "PoolNet", "password": "poolpass123",
        "broker_url": f"mqtt://127.0.0.1:{broker.port}", "mqtt_user": "", "mqtt_password": "",
        "client_id": f"dev-{key}", "topic_prefix": f"users/{user['username']}/devices/{key}",
        "username": user["username"], "ca_cert": None,
    }  # fmt: skip
    sim = SimulatedController(tmp_path / "flash", mac=mac, binding=binding)
    await sim.start()
    paused = False
    try:
        await wait_until(lambda: card.toggle.isEnabled(), within=15, what="online, state known")
        await wait_until(lambda: sim.controller.time_ok, within=15, what="device clock set")
        assert not sim.relay_on
        os.kill(broker.proc.pid, signal.SIGSTOP)
        paused = True
        switch_pump(app, card, qtbot)
        assert card.toggle.text() == "Turning on…"
        await wait_until(lambda: card.toggle.text() == "Turn on", within=10, what="failure shown")
        assert card.message.text() == "The controller did not respond."
        os.kill(broker.proc.pid, signal.SIGCONT)
        paused = False
        try:
            await wait_until(lambda: "too late" in card.message.text(), within=10, what="refusal")
        except AssertionError:
            events = app.dashboard.store.devices[key].last_event
            raise AssertionError(f"{card.message.text()} {sim.relay_on} {events}") from None
        assert card.message.text() == (
            "The command reached the controller too late and was not carried out; nothing changed."
        )
        assert card.message.styleSheet() != "color: #b3261e;"
        assert not sim.relay_on
        assert "Pump off" in card.pump.text()
        assert card.toggle.text() == "Turn on"
        assert card.toggle.isEnabled()
        # a fresh command still works
        switch_pump(app, card, qtbot)
        await wait_until(lambda: card.toggle.text() == "Turn off", what="confirmed")
        assert sim.relay_on
    finally:
        if paused:
            os.kill(broker.proc.pid, signal.SIGCONT)
        await sim.stop()


def test_expiry_is_in_the_contract() -> None:
    """docs/mqtt.md names the field the app sends and the firmware reads."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "docs" / "mqtt.md").read_text()
    assert '"expires"' in text
    assert "command expired" in text
    assert json.loads('{"expires": "2026-11-27T14:00:08.105Z"}')


async def test_switching_by_hand_asks_first_and_resume_schedule_is_one_click(
    signed_in, qtbot
) -> None:
    app, key, controller, _ = signed_in
    card = app.window.dashboard_view.cards[key]
    fake = controller()  # follows its schedule
    await wait_until(lambda: card.toggle.isEnabled())
    assert "schedule" in card.pump.text()
    assert not card.resume.isVisible()
    qtbot.mouseClick(card.toggle, LEFT)
    dialog = app.dashboard.dialog
    assert dialog.isVisible()
    assert "pauses the schedule" in dialog.findChildren(QLabel)[0].text()
    assert dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).isDefault()
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel), LEFT)
    assert fake.commands == []
    assert card.toggle.text() == "Turn on"

    switch_pump(app, card, qtbot)
    await wait_until(lambda: "Pump on · manual" in card.pump.text(), what="manual")
    assert "schedule paused" in card.pump.text()
    assert card.resume.isVisible()
    assert card.resume.isEnabled()
    qtbot.mouseClick(card.toggle, LEFT)  # already manual: no question
    assert app.dashboard.dialog is dialog or not app.dashboard.dialog.isVisible()
    await wait_until(lambda: "Pump off · manual" in card.pump.text(), what="off, still manual")

    qtbot.mouseClick(card.resume, LEFT)
    await wait_until(lambda: fake.commands[-1].get("mode") == "schedule", what="resume sent")
    await wait_until(lambda: not card.resume.isVisible(), what="back on the schedule")
    assert "schedule paused" not in card.pump.text()
    assert "schedule" in card.pump.text()


async def test_cards_show_the_last_recorded_temperature_at_once(make_app, backend) -> None:
    user = unique_user()
    client = BackendClient(backend.url)
    await client.register(user["username"], user["email"], user["password"], user["device_id"])
    await client.login(user["username"], user["password"])
    for minutes, temp in ((30, 23.5), (12, 24.75)):
        ts = (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
        body = {"deviceId": user["device_id"], "type": "telemetry", "data": {"water_c": temp}}
        await client._authed(api.EventAnswer, "POST", "/api/event", json={**body, "ts": ts})
    await client.aclose()
    app = make_app(backend.url)
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    key = user["device_id"].lower()
    await wait_until(lambda: key in app.window.dashboard_view.cards)
    card = app.window.dashboard_view.cards[key]
    await wait_until(lambda: "24.8 °C" in card.temperature.text(), within=3, what="recorded")
    assert "(recorded 12 min ago)" in card.temperature.text()
    await wait_until(lambda: app.dashboard.link and app.dashboard.link.connected, what="live")
    fake = FakeController(**await issued_device_login(app.session.client, user["device_id"]))
    fake.start()
    try:
        fake.telemetry(25.5)
        await wait_until(lambda: card.temperature.text() == "25.5 °C", what="live value")
    finally:
        fake.stop()


async def test_when_the_app_loses_the_broker_the_cards_do_not_call_controllers_offline(
    signed_in_on_plain_broker, broker
) -> None:
    app, key, controller, _ = signed_in_on_plain_broker
    card = app.window.dashboard_view.cards[key]
    controller()
    await wait_until(lambda: "Online" in card.status.text())
    broker.stop()
    await wait_until(lambda: "not connected" in card.status.text(), what="the app's loss")
    assert "Offline" not in card.status.text()
    assert "#b3261e" not in card.status.text()
    assert "out of date" in card.status.text()
    assert not card.toggle.isEnabled()
    broker.start()
    await wait_until(lambda: app.dashboard.link.connected, within=15, what="reconnected")


async def test_a_device_added_elsewhere_appears_without_signing_out(make_app, backend) -> None:
    user = unique_user()
    client = BackendClient(backend.url)
    await client.register(user["username"], user["email"], user["password"], user["device_id"])
    await client.login(user["username"], user["password"])
    app = make_app(backend.url)
    app.dashboard.device_list_interval = 0.5
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    cards = app.window.dashboard_view.cards
    await wait_until(lambda: user["device_id"].lower() in cards)
    other = unique_user()["device_id"]
    await client.add_device(other, "Pool house", None)  # from another computer
    try:
        await wait_until(lambda: other.lower() in cards, within=5, what="the new card")
        assert cards[other.lower()].name.text() == "Pool house"
        await client.remove_device(other)
        await wait_until(lambda: other.lower() not in cards, within=5, what="removed elsewhere")
    finally:
        await client.aclose()
