"""Command deadlines (docs/mqtt.md `expires`): the unchanged firmware on a real Mosquitto refuses
a command that arrives after its deadline, by its own clock, and says so; a command in time, or
one without a deadline, runs; a deadline it cannot read is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from pooldesk_firmware.sim.runner import SimulatedController
from tests.firmware.conftest import make_binding
from tests.support.waiting import wait_until


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def rejection(dashboard, cmd_id: str) -> dict:
    raw = await dashboard.wait_for(
        "event",
        lambda p: (
            json.loads(p).get("type") == "command_rejected"
            and json.loads(p).get("cmd_id") == cmd_id
        ),
    )
    return json.loads(raw)


async def test_a_late_command_is_refused_and_one_in_time_runs(tmp_path, broker, dashboard):
    async with SimulatedController(tmp_path / "flash", binding=make_binding(broker)) as sim:
        await dashboard.wait_for("status", lambda p: p == b"online")
        await wait_until(lambda: sim.controller.time_ok, within=15, what="network time")
        now = datetime.now(UTC)
        dashboard.command(
            "pump/set",
            {"cmd_id": "LATE-ON", "on": True, "expires": iso(now - timedelta(seconds=5))},
        )
        event = await rejection(dashboard, "LATE-ON")
        assert (event["code"], event["reason"]) == ("expired", "command expired")
        assert not sim.relay_on

        dashboard.command(
            "schedule/set",
            {"cmd_id": "LATE-SCHED", "tz": "UTC", "windows": [], "expires": iso(now)},
        )
        assert (await rejection(dashboard, "LATE-SCHED"))["code"] == "expired"

        dashboard.command("pump/set", {"cmd_id": "BAD-EXP", "on": True, "expires": "soon"})
        malformed = await rejection(dashboard, "BAD-EXP")
        assert (malformed["code"], malformed["field"]) == ("invalid", "expires")
        assert "expires must be" in malformed["reason"]
        assert not sim.relay_on

        later = iso(datetime.now(UTC) + timedelta(seconds=30))
        dashboard.command("pump/set", {"cmd_id": "IN-TIME", "on": True, "expires": later})
        state = await dashboard.wait_state(lambda s: s["cmd_id"] == "IN-TIME")
        assert state["on"] is True
        assert sim.relay_on
        dashboard.command("pump/set", {"cmd_id": "NO-DEADLINE", "on": False})
        state = await dashboard.wait_state(lambda s: s["cmd_id"] == "NO-DEADLINE")
        assert state["on"] is False
        assert not sim.relay_on
