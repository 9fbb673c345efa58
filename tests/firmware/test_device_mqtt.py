"""The simulated controller (unchanged firmware) against a real Mosquitto, with paho as the
dashboard: commands, cmd_id echo, applied once, will, reconnect, restarts, schedule, freeze."""

from __future__ import annotations

import asyncio
import calendar
import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pooldesk_firmware.sim.runner import SimulatedController, start_devices
from tests.firmware.conftest import PREFIX, Dashboard, make_binding
from tests.support.ports import free_port, wait_for_port
from tests.support.processes import die_with_parent
from tests.support.waiting import assert_nothing_arrives, wait_until


def utc(*args: int) -> float:
    return float(calendar.timegm(dt.datetime(*args).timetuple()))


async def test_command_is_applied_and_echoed_with_its_cmd_id(tmp_path, broker, dashboard):
    async with SimulatedController(tmp_path / "flash", binding=make_binding(broker)) as sim:
        await dashboard.wait_for("status", lambda p: p == b"online")
        first = await dashboard.wait_state(lambda s: True)
        assert first["cmd_id"] is None
        assert first["on"] is False
        dashboard.command("pump/set", {"cmd_id": "C1", "on": True, "ts": "2026-11-27T14:00:00Z"})
        state = await dashboard.wait_state(lambda s: s["cmd_id"] == "C1")
        assert state["on"] is True
        assert state["mode"] == "manual"
        assert state["until"] is None
        assert state["ts"].endswith("Z")
        assert sim.relay_on

        dashboard.command("pump/set", {"cmd_id": "C2", "mode": "timer", "duration_s": 7200})
        state = await dashboard.wait_state(lambda s: s["cmd_id"] == "C2")
        assert state["mode"] == "timer"
        assert state["on"] is True
        until = dt.datetime.fromisoformat(state["until"].replace("Z", "+00:00"))
        ts = dt.datetime.fromisoformat(state["ts"].replace("Z", "+00:00"))
        assert abs((until - ts).total_seconds() - 7200) <= 2

        # the state is retained: a dashboard that connects later sees it at once
        late = Dashboard(broker, subscribe=f"{PREFIX}/pump/state")
        try:
            retained = json.loads(await late.wait_for("pump/state"))
            assert retained["cmd_id"] == "C2"
        finally:
            late.close()


async def test_a_duplicate_command_is_applied_once(tmp_path, broker, dashboard):
    async with SimulatedController(tmp_path / "flash", binding=make_binding(broker)) as sim:
        await dashboard.wait_for("status", lambda p: p == b"online")
        dashboard.command("pump/set", {"cmd_id": "ON-1", "on": True})
        await dashboard.wait_state(lambda s: s["cmd_id"] == "ON-1")
        dashboard.command("pump/set", {"cmd_id": "OFF-1", "on": False})
        await dashboard.wait_state(lambda s: s["cmd_id"] == "OFF-1")
        dashboard.command("pump/set", {"cmd_id": "ON-1", "on": True})  # redelivered
        dashboard.command("pump/set", {"cmd_id": "MARK", "mode": "schedule"})
        await dashboard.wait_state(lambda s: s["cmd_id"] == "MARK")
        ids = [s["cmd_id"] for s in dashboard.states()]
        assert ids.count("ON-1") == 1
        assert not sim.relay_on

        # remembered across a power cut too
        await sim.power_cut()
        await sim.power_on()
        await sim.wait_until(lambda: sim.online)
        n = len(dashboard.states())
        dashboard.command("pump/set", {"cmd_id": "ON-1", "on": True})
        dashboard.command("pump/set", {"cmd_id": "MARK2", "mode": "schedule"})
        await dashboard.wait_state(lambda s: s["cmd_id"] == "MARK2")
        assert "ON-1" not in [s["cmd_id"] for s in dashboard.states()[n:]]
        assert not sim.relay_on


async def test_bad_commands_are_rejected_with_a_reason(tmp_path, broker, dashboard):
    async with SimulatedController(tmp_path / "flash", binding=make_binding(broker)) as sim:
        await dashboard.wait_for("status", lambda p: p == b"online")
        dashboard.command("pump/set", {"cmd_id": "T0", "mode": "timer", "duration_s": 0})
        dashboard.command("pump/set", b"\xff not json")
        dashboard.command("schedule/set", {"cmd_id": "S0", "tz": "Nowhere/City", "windows": []})
        events = []
        for _ in range(3):
            raw = await dashboard.wait_for(
                "event", lambda p: json.loads(p)["type"] == "command_rejected" and p not in events
            )
            events.append(raw)
        got = {json.loads(e)["cmd_id"]: json.loads(e) for e in events}
        assert "duration_s" in got["T0"]["reason"]
        assert "JSON" in got[None]["reason"]
        assert "time zone" in got["S0"]["reason"]
        # the codes a program acts on (pooldesk_contract.rejections), with the field at fault
        assert (got["T0"]["code"], got["T0"]["field"]) == ("invalid", "duration_s")
        assert got[None]["code"] == "invalid"
        assert "field" not in got[None]
        assert (got["S0"]["code"], got["S0"]["field"]) == ("invalid", "tz")
        assert sim.online
        assert not sim.relay_on


async def test_last_will_says_offline_on_a_power_cut(tmp_path, broker, dashboard):
    sim = SimulatedController(tmp_path / "flash", binding=make_binding(broker))
    await sim.start()
    try:
        await dashboard.wait_for("status", lambda p: p == b"online")
        await sim.power_cut()  # no DISCONNECT, no goodbye: only the broker's will can say it
        await dashboard.wait_for("status", lambda p: p == b"offline", within=5)
        assert dashboard.payloads("status")[-1] == b"offline"
        assert not sim.relay_on
    finally:
        await sim.stop()


class RestartableBroker:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.conf = workdir / "mosquitto.conf"
        user = "root" if os.geteuid() == 0 else os.environ.get("USER", "")
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
            f"set_tcp_nodelay true\n" + (f"user {user}\n" if user else "")
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen(
            [exe, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(5)
            self.proc = None


async def test_reconnects_after_a_broker_restart(tmp_path):
    broker = RestartableBroker(tmp_path)
    broker.start()
    try:
        async with SimulatedController(
            tmp_path / "flash", binding=make_binding(broker.port)
        ) as sim:
            await sim.wait_until(lambda: sim.online)
            broker.stop()
            await sim.wait_until(lambda: not sim.online, within=5)
            # the outage lasts a while (the firmware retries into a dead port meanwhile)
            await assert_nothing_arrives(lambda: sim.online, 1.5, "online without a broker")
            broker.start()
            dashboard = Dashboard(broker.port)
            try:
                await sim.wait_until(lambda: sim.online, within=15)
                await dashboard.wait_for("status", lambda p: p == b"online")
                dashboard.command("pump/set", {"cmd_id": "AFTER", "on": True})
                await dashboard.wait_state(lambda s: s["cmd_id"] == "AFTER")
                assert sim.relay_on
            finally:
                dashboard.close()
    finally:
        broker.stop()


async def test_timer_expires_and_the_pump_returns_to_the_schedule(tmp_path, broker, dashboard):
    async with SimulatedController(
        tmp_path / "flash", binding=make_binding(broker), utc_start=utc(2026, 11, 27, 12, 0)
    ) as sim:
        await dashboard.wait_for("status", lambda p: p == b"online")
        dashboard.command("pump/set", {"cmd_id": "RUN2H", "mode": "timer", "duration_s": 7200})
        await dashboard.wait_state(lambda s: s["cmd_id"] == "RUN2H" and s["on"])
        sim.device.clock.advance(7199)
        # one second early the pump keeps running: an absence, watched for a window
        await assert_nothing_arrives(lambda: not sim.relay_on, 0.5, "the timer ending early")
        sim.device.clock.advance(2)
        state = await dashboard.wait_state(
            lambda s: s["mode"] == "schedule" and s["cmd_id"] == "RUN2H"
        )
        assert state["on"] is False
        assert state["until"] is None
        assert state["cmd_id"] == "RUN2H"
        assert not sim.relay_on


async def test_after_a_power_cut_the_pump_follows_mode_and_schedule_not_a_stale_command(
    tmp_path, broker, dashboard
):
    async with SimulatedController(
        tmp_path / "flash", binding=make_binding(broker), utc_start=utc(2026, 11, 27, 12, 0)
    ) as sim:
        await dashboard.wait_for("status", lambda p: p == b"online")
        dashboard.command("pump/set", {"cmd_id": "RUN1H", "mode": "timer", "duration_s": 3600})
        await dashboard.wait_state(lambda s: s["cmd_id"] == "RUN1H")
        await sim.power_cut()
        sim.device.clock.advance(3 * 3600)  # power comes back three hours later
        await sim.power_on()
        assert not sim.relay_on  # safe state at boot
        await sim.wait_until(lambda: sim.online)
        state = await dashboard.wait_state(
            lambda s: s["cmd_id"] is None and s["ts"] is not None and s["ts"] > "2026-11-27T14:"
        )
        assert state["mode"] == "schedule"
        assert state["on"] is False
        assert not sim.relay_on

        # a manual choice is the owner's setting, not a stale command: it survives
        dashboard.command("pump/set", {"cmd_id": "MAN", "on": True})
        await dashboard.wait_state(lambda s: s["cmd_id"] == "MAN")
        await sim.power_cut()
        await sim.power_on()
        await sim.wait_until(lambda: sim.relay_on, within=3)
        assert sim.controller.mode == "manual"


async def test_schedule_window_across_midnight_runs_on_the_live_device(tmp_path, broker, dashboard):
    start = utc(2026, 11, 27, 21, 59, 58)  # Friday
    async with SimulatedController(
        tmp_path / "flash", binding=make_binding(broker), utc_start=start
    ) as sim:
        await dashboard.wait_for("status", lambda p: p == b"online")
        dashboard.command(
            "schedule/set",
            {
                "cmd_id": "NIGHT",
                "tz": "Europe/London",
                "windows": [{"start": "22:00", "end": "02:00", "days": ["fri"]}],
            },
        )
        echoed = json.loads(
            await dashboard.wait_for("schedule", lambda p: json.loads(p)["cmd_id"] == "NIGHT")
        )
        assert echoed["windows"] == [{"start": "22:00", "end": "02:00", "days": ["fri"]}]
        await sim.wait_until(lambda: sim.relay_on, within=5)  # 22:00 local arrives
        sim.device.clock.advance(3 * 3600 + 50)  # Saturday 01:00: still Friday's window
        await assert_nothing_arrives(lambda: not sim.relay_on, 0.4, "the window closing early")
        sim.device.clock.advance(3600)  # Saturday 02:00
        await sim.wait_until(lambda: not sim.relay_on, within=3)
        await dashboard.wait_for(
            "pump/state",
            lambda p: p == dashboard.payloads("pump/state")[-1] and json.loads(p)["on"] is False,
        )


async def test_without_network_time_the_schedule_waits_and_says_so(tmp_path, broker, dashboard):
    async with SimulatedController(
        tmp_path / "flash", binding=make_binding(broker), ntp=False
    ) as sim:
        state = await dashboard.wait_state(lambda s: True)
        assert state["waiting"] == "time"
        assert state["on"] is False
        assert state["ts"] is None
        alert = json.loads(await dashboard.wait_for("alert/clock", lambda p: p != b""))
        assert alert["severity"] == "warning"
        assert "schedule" in alert["message"]
        assert not sim.relay_on


async def test_freeze_protection_runs_the_pump_and_a_stale_sensor_fails_safe(
    tmp_path, broker, dashboard
):
    async with SimulatedController(tmp_path / "flash", binding=make_binding(broker)) as sim:
        await dashboard.wait_for("status", lambda p: p == b"online")
        sim.device.water.ramp(6.0, 1.0, 0.5, sim.device.clock)
        state = await dashboard.wait_state(lambda s: s["mode"] == "freeze")
        assert state["on"]
        assert sim.relay_on
        alert = json.loads(await dashboard.wait_for("alert/freeze", lambda p: p != b""))
        assert alert["severity"] == "info"
        water = alert["water_c"]  # the reading that raised it, as a number too
        assert isinstance(water, float)
        assert 1.0 <= water <= 3.0
        assert alert["message"] == f"freeze protection running (water {water:.1f} C)"

        dashboard.command("pump/set", {"cmd_id": "STOP", "on": False})
        rejected = json.loads(await dashboard.wait_for("event", lambda p: b"STOP" in p))
        assert rejected["code"] == "freeze_active"
        assert rejected["reason"] == "freeze protection active"  # for logs and older apps
        assert sim.relay_on

        sim.device.water.present = False  # the sensor dies
        sim.device.clock.advance(200)  # past stale_s (180 s) without a good reading
        await dashboard.wait_for("alert/sensor-water", lambda p: p != b"")
        state = await dashboard.wait_state(lambda s: s["mode"] == "schedule" and not s["on"])
        assert not sim.relay_on
        await dashboard.wait_for("alert/freeze", lambda p: p == b"")  # cleared

        sim.device.water.present = True
        sim.device.water.set(20.0)
        await dashboard.wait_for(
            "alert/sensor-water",
            lambda p: p == b"" and dashboard.payloads("alert/sensor-water")[-1] == b"",
        )


async def test_several_devices_share_one_broker_and_obey_only_their_commands(
    tmp_path, broker, dashboard
):
    binding = make_binding(
        broker, prefix="users/john/devices/{topic_id}", client_id="dev-{topic_id}"
    )
    async with start_devices(3, tmp_path, binding=binding) as sims:
        ids = [s.device_id for s in sims]
        assert ids == ["ESP-A1B2C3", "ESP-A1B2C4", "ESP-A1B2C5"]
        for s in sims:
            await s.wait_until(lambda s=s: s.online)
        second = "users/john/devices/esp-a1b2c4"
        dashboard.command("pump/set", {"cmd_id": "ONLY2", "on": True}, prefix=second)
        await dashboard.wait_state(lambda s: s["cmd_id"] == "ONLY2", prefix=second)
        assert [s.relay_on for s in sims] == [False, True, False]


async def test_the_firmware_feeds_the_watchdog(tmp_path):
    # A short period (the board's is longer), but not so short that the test process pausing
    # (a garbage collection, a busy machine) for it looks like a firmware that stopped feeding.
    async with SimulatedController(tmp_path / "flash", wdt_timeout_ms=1500) as sim:
        # more than two watchdog periods pass without a reset: the absence is the claim
        await assert_nothing_arrives(lambda: sim.device.boots != 1, 3.5, "a watchdog reset")
        assert sim.device.wdt_timeout_ms == 1500


async def test_identify_blinks_the_led(tmp_path):
    async with SimulatedController(tmp_path / "flash") as sim:
        led = sim.image.module("fw_board").LED_PIN
        before = sim.device.pin_changes.get(led, 0)
        sim.controller.identify(2)
        await wait_until(lambda: sim.device.pin_changes.get(led, 0) - before >= 5, 5, "blinks")


async def test_long_press_factory_reset_keeps_only_the_claim_code(tmp_path, broker, dashboard):
    async with SimulatedController(tmp_path / "flash", binding=make_binding(broker)) as sim:
        claim = sim.claim_code
        await dashboard.wait_for("status", lambda p: p == b"online")
        dashboard.command("pump/set", {"cmd_id": "M", "on": True})
        await dashboard.wait_state(lambda s: s["cmd_id"] == "M")
        await sim.hold_button(2)  # short: nothing happens
        await assert_nothing_arrives(
            lambda: sim.device.boots != 1 or not sim.online, 0.3, "a reset or a disconnect"
        )
        await sim.hold_button(6)
        await sim.wait_until(lambda: sim.device.boots == 2)
        await dashboard.wait_for("status", lambda p: p == b"offline", within=5)
        await sim.wait_until(lambda: sim.controller is not None and not sim.controller.bound)
        assert sim.stored_config() == {}
        assert sim.claim_code == claim
        assert not sim.relay_on
        assert sim.status[0] == "idle"


@pytest.mark.parametrize(
    ("network", "reason"),
    [
        ({"password": "wrong-password"}, "wifi_auth"),
        ({"ssid": "NoSuchNetwork"}, "wifi_not_found"),
        ({"ssid": "NoDHCP", "password": "dhcpless"}, "no_ip"),
    ],
)
async def test_wifi_failures_are_told_apart_and_corrected_without_reboot(
    tmp_path, broker, network, reason
):
    from pooldesk_firmware.sim.device import FakeNetwork, default_networks

    nets = [*default_networks(), FakeNetwork("NoDHCP", "dhcpless", dhcp=False)]
    async with SimulatedController(tmp_path / "flash", networks=nets, wifi_timeout_s=1.0) as sim:
        await sim.controller.apply_binding(make_binding(broker, **network))
        await sim.wait_until(lambda: sim.status[0] == "failed", within=10)
        assert sim.status[1]["reason"] == reason
        await sim.controller.apply_wifi("PoolNet", "poolpass123")
        await sim.wait_until(lambda: sim.online, within=10)
        assert sim.device.boots == 1


@pytest.fixture
def auth_broker(tmp_path: Path):
    """A Mosquitto that wants a login: user "device", password "right-password"."""
    conf_dir = tmp_path / "auth"
    conf_dir.mkdir()
    pw = conf_dir / "passwd"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(pw), "device", "right-password"],
        check=True,
        capture_output=True,
    )
    os.chmod(pw, 0o644)
    port = free_port()
    conf = conf_dir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {pw}\nuser root\n"
    )
    proc = subprocess.Popen(
        ["mosquitto", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent(),
    )
    try:
        wait_for_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(5)


async def test_broker_unreachable_and_broker_login_refused(tmp_path, auth_broker):
    async with SimulatedController(tmp_path / "flash") as sim:
        await sim.controller.apply_binding(make_binding(free_port()))  # nothing listens there
        await sim.wait_until(lambda: sim.status[0] == "failed")
        assert sim.status[1]["reason"] == "broker_unreachable"

        await sim.controller.apply_binding(
            make_binding(auth_broker, mqtt_user="device", mqtt_password="wrong")
        )
        await sim.wait_until(
            lambda: sim.status[0] == "failed" and sim.status[1]["reason"] == "broker_auth"
        )
        await sim.controller.apply_binding(
            make_binding(auth_broker, mqtt_user="device", mqtt_password="right-password")
        )
        await sim.wait_until(lambda: sim.online)


async def test_stopping_leaves_no_firmware_task_running(tmp_path, broker, dashboard):
    async with SimulatedController(tmp_path / "flash", binding=make_binding(broker)) as sim:
        await sim.wait_until(lambda: sim.online)
        dashboard.command("pump/set", {"cmd_id": "X", "on": True})
        await dashboard.wait_state(lambda s: s["cmd_id"] == "X")
    await wait_until(
        lambda: [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == [],
        5,
        "every firmware task ended",
    )
