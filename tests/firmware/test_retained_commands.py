"""Commands are never retained (docs/mqtt.md): the simulated controller (unchanged firmware) on a
real Mosquitto refuses a command the broker kept and replays, and says so on `event`."""

from __future__ import annotations

import json
import logging

import pytest

from pooldesk_firmware.sim.runner import SimulatedController
from tests.firmware.conftest import PREFIX, Dashboard, make_binding

REASON = "retained command ignored"
WINDOW = {"start": "08:00", "end": "10:00", "days": ["mon"]}


def publish_retained(dashboard: Dashboard, sub: str, body: dict | bytes) -> None:
    """What a buggy or hostile dashboard does: a command the broker keeps for later."""
    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
    dashboard.client.publish(f"{PREFIX}/{sub}", payload, qos=1, retain=True).wait_for_publish(5)


def events(dashboard: Dashboard) -> list[dict]:
    return [json.loads(p) for p in dashboard.payloads("event")]


async def rejected(dashboard: Dashboard, cmd_id: str) -> dict:
    raw = await dashboard.wait_for(
        "event",
        lambda p: (
            json.loads(p).get("type") == "command_rejected"
            and json.loads(p).get("cmd_id") == cmd_id
        ),
    )
    return json.loads(raw)


async def test_a_retained_pump_command_is_refused_and_reported(tmp_path, broker, dashboard):
    publish_retained(dashboard, "pump/set", {"cmd_id": "STALE-ON", "on": True})
    async with SimulatedController(tmp_path / "flash", binding=make_binding(broker)) as sim:
        event = await rejected(dashboard, "STALE-ON")  # replayed on subscribe, flag set
        assert (event["code"], event["reason"]) == ("retained", REASON)
        assert event["ts"]
        state = await dashboard.wait_state(lambda s: True)
        assert state["cmd_id"] is None
        assert state["on"] is False
        assert not sim.relay_on
        assert sim.controller.mode == "schedule"

        # a live command still works, and the stale one was not remembered as applied
        dashboard.command("pump/set", {"cmd_id": "STALE-ON", "on": True})
        state = await dashboard.wait_state(lambda s: s["cmd_id"] == "STALE-ON")
        assert state["on"] is True
        assert sim.relay_on


async def test_a_retained_command_is_refused_again_after_every_reconnect(
    tmp_path, broker, dashboard
):
    async with SimulatedController(tmp_path / "flash", binding=make_binding(broker)) as sim:
        await dashboard.wait_for("status", lambda p: p == b"online")
        before = sim.controller.schedule.spec
        publish_retained(
            dashboard,
            "schedule/set",
            {"cmd_id": "OLD-SCHED", "tz": "UTC", "windows": [WINDOW]},
        )
        # Live, the broker clears the flag (MQTT 3.1.1): the device cannot tell, and applies it.
        await dashboard.wait_for("schedule", lambda p: json.loads(p)["cmd_id"] == "OLD-SCHED")
        applied = sim.controller.schedule.spec
        assert applied != before
        assert applied["windows"] == [WINDOW]

        await sim.power_cut()
        dashboard.messages.clear()
        await sim.power_on()
        await dashboard.wait_for("status", lambda p: p == b"online")
        event = await rejected(dashboard, "OLD-SCHED")  # the replay after the reconnect
        assert (event["code"], event["reason"]) == ("retained", REASON)
        assert sim.controller.schedule.spec == applied  # kept from flash, not applied again
        replies = [json.loads(p) for p in dashboard.payloads("schedule")]
        assert all(r["cmd_id"] is None for r in replies)  # no echo: nothing was applied


async def test_a_retained_command_without_cmd_id_is_dropped_and_logged(
    tmp_path, broker, dashboard, caplog
):
    caplog.set_level(logging.INFO, logger="pooldesk.sim")
    publish_retained(dashboard, "pump/set", b'{"on": true}')
    async with SimulatedController(tmp_path / "flash", binding=make_binding(broker)) as sim:
        await dashboard.wait_for("status", lambda p: p == b"online")
        await sim.wait_until(
            lambda: any("retained command" in r.getMessage() for r in caplog.records), within=5
        )
        dashboard.command("pump/set", {"cmd_id": "LIVE-1", "on": False})  # processed after it
        await dashboard.wait_state(lambda s: s["cmd_id"] == "LIVE-1")
        assert not sim.relay_on
        assert [e for e in events(dashboard) if e["type"] == "command_rejected"] == []


@pytest.mark.parametrize("sub", ["pump/set", "schedule/set"])
async def test_only_command_topics_are_checked(sub, tmp_path, broker, dashboard):
    """A live (not retained) command on either topic is applied as before."""
    body = (
        {"cmd_id": "LIVE-2", "on": True}
        if sub == "pump/set"
        else {"cmd_id": "LIVE-2", "tz": "UTC", "windows": []}
    )
    async with SimulatedController(tmp_path / "flash", binding=make_binding(broker)):
        await dashboard.wait_for("status", lambda p: p == b"online")
        dashboard.command(sub, body)
        echo = "pump/state" if sub == "pump/set" else "schedule"
        await dashboard.wait_for(echo, lambda p: json.loads(p)["cmd_id"] == "LIVE-2")
        assert not [e for e in events(dashboard) if e["type"] == "command_rejected"]
