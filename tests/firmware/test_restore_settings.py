"""The controller's undo point for provisioning (`settings_snapshot` / `restore_settings`), on the
simulated controller (unchanged firmware) with a real Mosquitto and paho as the dashboard."""

from __future__ import annotations

from pooldesk_firmware.sim.runner import SimulatedController
from tests.firmware.conftest import make_binding


async def test_restore_puts_the_binding_back_and_keeps_a_commands_change(
    tmp_path, broker, dashboard
):
    async with SimulatedController(tmp_path / "flash", binding=make_binding(broker)) as sim:
        await dashboard.wait_for("status", lambda p: p == b"online")
        before = sim.stored_config()
        snapshot = sim.controller.settings_snapshot()

        dashboard.command("pump/set", {"cmd_id": "KEEP-ME", "on": True})  # the owner, meanwhile
        await dashboard.wait_state(lambda s: s["cmd_id"] == "KEEP-ME")
        await sim.controller.apply_wifi("Elsewhere", "elsewhere-123")  # provisioning, not finished
        await sim.wait_until(lambda: sim.status == ("failed", {"reason": "wifi_not_found"}))

        await sim.controller.restore_settings(snapshot)
        after = sim.stored_config()
        assert after["binding"] == before["binding"]
        for untouched in ("schedule", "freeze"):  # stored exactly as before (here: never saved)
            assert after.get(untouched) == before.get(untouched)
        assert after["pump"]["mode"] == "manual"
        assert after["pump"]["on"] is True
        assert "KEEP-ME" in after["pump"]["recent"]
        await sim.wait_until(lambda: sim.online, within=10)  # reconnected with the old Wi-Fi
        assert sim.relay_on


async def test_restore_to_unbound_goes_idle_and_stays_so_after_a_reboot(tmp_path, broker):
    async with SimulatedController(tmp_path / "flash") as sim:
        before = sim.stored_config()
        snapshot = sim.controller.settings_snapshot()
        await sim.controller.apply_binding(make_binding(broker))
        await sim.wait_until(lambda: sim.online, within=10)

        await sim.controller.restore_settings(snapshot)
        await sim.wait_until(lambda: sim.status[0] == "idle" and not sim.online, within=10)
        assert not sim.controller.bound
        assert sim.stored_config() == before

        await sim.power_cut()
        await sim.power_on()
        assert not sim.controller.bound
        assert sim.stored_config() == before
