"""Provisioning answers under the real MicroPython interpreter, with the real controller as the
host (tests/firmware/mpy/mpy_prov.py): error codes, the field of every `invalid`, and the rules
docs/provisioning.md spells out for framing, records, the handshake, identify and scans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import micropython
from tests.support.mpy_board import DEFAULT_WORLD

SCRIPT = micropython.SCRIPTS_DIR / "mpy_prov.py"


@pytest.mark.parametrize("name", micropython.cases(SCRIPT))
def test_provisioning_under_micropython(name: str, tmp_path: Path) -> None:
    world = tmp_path / "world.json"
    world.write_text(json.dumps(DEFAULT_WORLD))
    micropython.run_case(SCRIPT, name, env={"PD_TMP": str(tmp_path), "PD_WORLD": str(world)})
