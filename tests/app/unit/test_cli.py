"""`pooldesk --help` and `--version` work without a display or a server."""

from __future__ import annotations

import subprocess
import sys

from pooldesk import __version__


def test_version_and_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pooldesk", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.strip() == f"pooldesk {__version__}"
    out = subprocess.run(
        [sys.executable, "-m", "pooldesk", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "--server URL" in out.stdout
    assert "keyring" in out.stdout


def test_an_unsafe_server_is_refused_with_a_message(tmp_path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path),
        "XDG_STATE_HOME": str(tmp_path),
    }
    out = subprocess.run(
        [sys.executable, "-m", "pooldesk", "--server", "http://pool.example.com"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 2
    assert "not encrypted" in out.stderr
    assert "Traceback" not in out.stderr
