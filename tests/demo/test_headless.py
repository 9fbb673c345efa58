"""`pooldesk demo --headless` as a newcomer runs it: every step holds, or the failing one is
named with its reason; either way nothing is left running and the temporary data is gone."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from pooldesk.demo.story import STEPS
from tests.demo.helpers import REPO, demo_env, demo_folders, leftovers, run_demo


def test_the_whole_story_holds_and_leaves_nothing_behind(tmp_path) -> None:
    done = run_demo(tmp_path, "--headless")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for step in STEPS:
        assert any(line.startswith("[ ok ] " + step + " ") for line in lines), step
    assert "All 14 steps held" in done.stdout
    assert "Traceback" not in done.stderr
    assert leftovers(tmp_path) == []
    assert demo_folders(tmp_path) == []


def test_without_a_display_it_says_so_and_runs_headless(tmp_path) -> None:
    done = run_demo(tmp_path, QT_QPA_PLATFORM="")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no display found" in done.stdout
    assert "All 14 steps held" in done.stdout
    assert leftovers(tmp_path) == []


def test_a_wrong_wifi_password_fails_at_the_binding_step_with_the_reason(tmp_path) -> None:
    done = run_demo(tmp_path, "--headless", "--wifi-password", "not-the-password")
    assert done.returncode == 1
    assert "[FAIL] binding" in done.stdout
    assert "The demo failed at step 'binding'" in done.stdout
    assert "The Wi-Fi password is wrong" in done.stdout  # the controller's own verdict
    assert "[ ok ] Wi-Fi" in done.stdout
    assert "pump on" not in done.stdout
    assert "Traceback" not in done.stderr
    assert leftovers(tmp_path) == []
    assert demo_folders(tmp_path) == []


def test_a_missing_broker_program_is_named_as_the_reason(tmp_path) -> None:
    done = run_demo(tmp_path, "--headless", POOLDESK_MOSQUITTO_BIN=str(tmp_path / "nothing"))
    assert done.returncode == 1
    failed = [line for line in done.stdout.splitlines() if line.startswith("The demo failed")]
    assert failed
    assert "Mosquitto is not installed" in failed[0]
    assert "apt-get install mosquitto" in failed[0]
    assert leftovers(tmp_path) == []


def test_sigterm_midway_stops_everything(tmp_path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pooldesk", "demo", "--headless"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=demo_env(tmp_path),
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "ready in" in line:
                break
        running = leftovers(tmp_path)
        assert any("mosquitto.conf" in line for line in running), running  # the broker
        assert any("serve" in line for line in running), running  # the backend
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert "interrupted" in proc.stderr.read()
    deadline = time.monotonic() + 5
    while leftovers(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert leftovers(tmp_path) == []
    assert demo_folders(tmp_path) == []


def test_an_unknown_language_is_refused_before_anything_starts(tmp_path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pooldesk", "--language", "klingon", "demo", "--headless"],
        capture_output=True,
        text=True,
        timeout=60,
        env=demo_env(tmp_path),
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown language 'klingon'; choose one of en, es, system" in done.stderr
    assert demo_folders(tmp_path) == []
