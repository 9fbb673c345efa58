"""What a pool owner must be able to trust on the card: a command reported as failed does not
run later behind their back, and dialogs closed with Esc open again."""

from __future__ import annotations

import json
import os
import signal

from PySide6.QtCore import Qt

from firmware.sim.runner import SimulatedController
from pooldesk.core.backend_client import BackendClient
from tests.app.helpers import unique_user, wait_until

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
        assert again is not None and again is not first
        await wait_until(lambda a=again: a.view.isVisible(), what="dialog shown again")
        again.close()
        await wait_until(lambda o=opened: key not in o, what="closed")


async def test_a_late_echo_clears_the_failure_and_shows_the_real_state(signed_in, qtbot) -> None:
    """A controller with no clock yet cannot judge the deadline and applies the command late:
    the red failure must give way to the state the controller reports."""
    app, key, controller, _ = signed_in
    card = app.window.dashboard_view.cards[key]
    fake = controller()
    await wait_until(lambda: card.toggle.isEnabled())
    fake.respond = False
    qtbot.mouseClick(card.toggle, LEFT)
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
    app = make_app(backend.url, broker_port=broker.port, command_timeout=1.5)
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
        qtbot.mouseClick(card.toggle, LEFT)
        assert card.toggle.text() == "Turning on…"
        await wait_until(lambda: card.toggle.text() == "Turn on", within=5, what="failure shown")
        assert card.message.text() == "The controller did not respond."
        os.kill(broker.proc.pid, signal.SIGCONT)
        paused = False
        await wait_until(lambda: "too late" in card.message.text(), within=10, what="refusal")
        assert card.message.text() == (
            "The command reached the controller too late and was not carried out; nothing changed."
        )
        assert card.message.styleSheet() != "color: #b3261e;"
        assert not sim.relay_on and "Pump off" in card.pump.text()
        assert card.toggle.text() == "Turn on" and card.toggle.isEnabled()
        # a fresh command still works
        qtbot.mouseClick(card.toggle, LEFT)
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
    assert '"expires"' in text and "command expired" in text
    assert json.loads('{"expires": "2026-11-27T14:00:08.105Z"}')
