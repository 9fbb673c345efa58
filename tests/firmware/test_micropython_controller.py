"""The whole controller under real MicroPython (its own asyncio, the board stand-ins in
pooldesk_firmware/sim/mpy/) against a real Mosquitto, commanded by a paho client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.firmware.conftest import PREFIX, Dashboard, make_binding
from tests.support.mpy_board import RELAY_PIN, MicroPythonBoard
from tests.support.plain_mosquitto import plain_mosquitto


def _online(e: dict) -> bool:
    return e["state"] == "mqtt_connected"


def _failed(reason: str):
    return lambda e: e["state"] == "failed" and e["detail"].get("reason") == reason


def wait_relay(board: MicroPythonBoard, level: int, timeout: float = 10.0) -> None:
    board.wait_event("pin", lambda e: e["pin"] == RELAY_PIN and e["value"] == level, timeout)


async def test_boots_goes_online_and_switches_the_pump_on_command(
    tmp_path: Path, broker: int, dashboard: Dashboard
) -> None:
    with MicroPythonBoard(tmp_path, binding=make_binding(broker)) as board:
        boot = board.wait_event("boot")
        assert boot["device_id"] == "ESP-A1B2C3"
        assert boot["bound"] is True
        board.wait_event("status", _online)
        await dashboard.wait_for("status", lambda p: p == b"online")
        event = json.loads(await dashboard.wait_for("event"))
        assert event["type"] == "boot"
        assert event["reason"] == "power_on"
        state = await dashboard.wait_state(lambda s: True)
        assert state["on"] is False
        assert state["mode"] == "schedule"
        assert board.relay() == 0

        dashboard.command("pump/set", {"cmd_id": "MPY-ON-1", "on": True})
        state = await dashboard.wait_state(lambda s: s["cmd_id"] == "MPY-ON-1")
        assert state["on"] is True
        assert state["mode"] == "manual"
        assert state["ts"] is not None  # network time came through ntptime
        wait_relay(board, 1)

        telemetry = json.loads(await dashboard.wait_for("telemetry"))
        assert telemetry["water_c"] == 24.0
        assert telemetry["rssi"] == -52

        dashboard.command("pump/set", {"cmd_id": "MPY-OFF-2", "on": False})
        await dashboard.wait_state(lambda s: s["cmd_id"] == "MPY-OFF-2" and s["on"] is False)
        wait_relay(board, 0)


async def test_a_bad_command_is_rejected_with_its_reason(
    tmp_path: Path, broker: int, dashboard: Dashboard
) -> None:
    with MicroPythonBoard(tmp_path, binding=make_binding(broker)) as board:
        board.wait_event("status", _online)
        await dashboard.wait_for("status", lambda p: p == b"online")
        dashboard.command("pump/set", {"cmd_id": "BAD-1", "mode": "timer", "duration_s": 0})
        raw = await dashboard.wait_for(
            "event", lambda p: json.loads(p)["type"] == "command_rejected"
        )
        rejected = json.loads(raw)
        assert rejected["cmd_id"] == "BAD-1"
        assert "duration_s" in rejected["reason"]


def test_a_refused_mqtt_login_is_reported_as_broker_auth(tmp_path: Path) -> None:
    with plain_mosquitto(tmp_path, logins={"dev-esp-a1b2c3": "right-password"}) as port:
        binding = make_binding(port, mqtt_user="dev-esp-a1b2c3", mqtt_password="wrong-password")
        with MicroPythonBoard(tmp_path, binding=binding) as board:
            failed = board.wait_event("status", _failed("broker_auth"))
            assert "refused" in failed["detail"]["message"]
            assert not board.events("status") or not any(map(_online, board.events("status")))


def test_a_wrong_wifi_password_is_reported_as_wifi_auth(tmp_path: Path) -> None:
    """On the ESP32 a wrong WPA2 password stays CONNECTING: the visible network that never
    accepted the key is reported as a probable wrong password."""
    binding = make_binding(1883, password="wrong-password")
    with MicroPythonBoard(tmp_path, binding=binding, wifi_timeout_s=2.0) as board:
        board.wait_event("status", _failed("wifi_auth"), timeout=30)


@pytest.mark.parametrize(
    ("network", "reason"),
    [
        ({"ssid": "NoDHCP", "password": "dhcpless-1", "dhcp": False}, "no_ip"),
        (None, "wifi_not_found"),
    ],
)
def test_other_wifi_failures_are_told_apart(tmp_path: Path, network: dict | None, reason: str):
    binding = make_binding(1883, ssid="NoDHCP", password="dhcpless-1")
    extra = {"networks": [network]} if network else {}
    with MicroPythonBoard(tmp_path, binding=binding, wifi_timeout_s=2.0, **extra) as board:
        board.wait_event("status", _failed(reason), timeout=30)


def test_a_scan_during_a_connection_attempt_waits_for_it_and_finds_the_networks(
    tmp_path: Path,
) -> None:
    """The radio returns [] while it is connecting: the firmware scans after the attempt."""
    binding = make_binding(1883, password="wrong-password")
    with MicroPythonBoard(tmp_path, binding=binding, wifi_timeout_s=3.0) as board:
        board.wait_event("status", lambda e: e["state"] == "connecting")
        board.control(op="scan")
        answer = board.wait_event("control", lambda e: e["op"] == "scan", timeout=30)
        assert answer["ok"], answer
        assert [n[0] for n in answer["networks"]] == ["PoolNet", "GardenCafe"]


async def test_a_wrong_password_for_the_network_it_is_on_keeps_the_working_one(
    tmp_path: Path, broker: int, dashboard: Dashboard
) -> None:
    """A typo while fixing the Wi-Fi: answered with the failure, the stored settings stay,
    and the controller comes back online with them (also after the next power cycle)."""
    with MicroPythonBoard(tmp_path, binding=make_binding(broker)) as board:
        board.wait_event("status", _online)
        board.control(op="apply_wifi", ssid="PoolNet", password="poolpass124")
        board.wait_event("control", lambda e: e["op"] == "apply_wifi" and e["ok"])
        failed_at = board.mark()
        board.wait_event("status", _failed("wifi_auth"), timeout=30)
        assert board.stored_config()["binding"]["password"] == "poolpass123"
        board.wait_event("status", _online, timeout=30, after=failed_at)
        assert board.stored_config()["binding"]["password"] == "poolpass123"

    with MicroPythonBoard(tmp_path / "again", binding=board.stored_config()["binding"]) as again:
        again.wait_event("status", _online)


async def test_a_corrected_password_is_stored_once_it_has_connected(
    tmp_path: Path, broker: int, dashboard: Dashboard
) -> None:
    nets = [
        {"ssid": "PoolNet", "password": "poolpass123", "rssi": -52},
        {"ssid": "NewRouter", "password": "fresh-router-9", "rssi": -40},
    ]
    with MicroPythonBoard(tmp_path, binding=make_binding(broker), networks=nets) as board:
        board.wait_event("status", _online)
        online_at = board.mark()
        board.control(op="apply_wifi", ssid="NewRouter", password="fresh-router-9")
        board.wait_event("status", _online, after=online_at)
        assert board.stored_config()["binding"]["ssid"] == "NewRouter"
        assert board.stored_config()["binding"]["topic_prefix"] == PREFIX
