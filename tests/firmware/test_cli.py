"""`pooldesk-sim` (pooldesk_firmware/sim/cli.py:main) as a user runs it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from pooldesk_firmware.sim.cli import main
from tests.firmware.conftest import Dashboard

CLI = [sys.executable, "-m", "pooldesk_firmware.sim.cli"]


def test_two_devices_come_online_obey_and_go_offline_on_ctrl_c(tmp_path: Path, broker: int):
    dashboard = Dashboard(broker)
    proc = subprocess.Popen(
        [
            *CLI,
            "--devices",
            "2",
            "--flash-dir",
            str(tmp_path),
            "--broker",
            f"mqtt://127.0.0.1:{broker}",
            "--user",
            "john",
            "--ble",
            "none",
            "--water",
            "constant:24.5",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        lines = []
        while "running" not in "".join(lines):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        assert lines[0].startswith("ESP-A1B2C3  claim code ")
        assert lines[0].rstrip().endswith("  bound")
        assert lines[1].startswith("ESP-A1B2C4")
        prefix = "users/john/devices/esp-a1b2c4"
        deadline = time.monotonic() + 10
        while b"online" not in dashboard.payloads("status", prefix):
            assert time.monotonic() < deadline, dashboard.messages
            time.sleep(0.05)
        dashboard.command("pump/set", {"cmd_id": "CLI1", "on": True}, prefix=prefix)
        while not any(s["cmd_id"] == "CLI1" for s in dashboard.states(prefix)):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # the first reading is a significant change: telemetry goes out without the 60 s wait
        while not any(
            json.loads(p)["water_c"] == 24.5 for p in dashboard.payloads("telemetry", prefix)
        ):
            assert time.monotonic() < deadline, dashboard.payloads("telemetry", prefix)
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
        while dashboard.payloads("status", prefix)[-1] != b"offline":
            assert time.monotonic() < deadline + 5
            time.sleep(0.05)
        # the flash survives: claim codes are kept for the next run
        assert json.loads((tmp_path / "ESP-A1B2C3" / "factory.json").read_text())["claim_code"]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        dashboard.close()


def test_bad_options_get_a_clear_message(capsys, tmp_path: Path):
    assert main(["--devices", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
    assert main(["--water", "lukewarm", "--flash-dir", str(tmp_path)]) == 2
    assert "bad --water" in capsys.readouterr().err


def test_sigusr1_presses_the_buttons_and_bluetooth_comes_back(tmp_path: Path, broker: int):
    dashboard = Dashboard(broker)
    proc = subprocess.Popen(
        [
            *CLI,
            "--flash-dir",
            str(tmp_path),
            "--broker",
            f"mqtt://127.0.0.1:{broker}",
            "--user",
            "john",
            "--ble",
            "virtual",
            "--log-level",
            "INFO",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.extend(proc.stderr), daemon=True)
    reader.start()
    try:
        while "running" not in (line := proc.stdout.readline()):
            assert line, errors
        deadline = time.monotonic() + 10
        prefix = "users/john/devices/esp-a1b2c3"
        while b"online" not in dashboard.payloads("status", prefix):
            assert time.monotonic() < deadline, errors
            time.sleep(0.05)
        proc.send_signal(signal.SIGUSR1)
        assert "ESP-A1B2C3  button pressed" in proc.stdout.readline()
        while not any("button: bluetooth on" in line for line in list(errors)):
            assert time.monotonic() < deadline, errors
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        dashboard.close()
