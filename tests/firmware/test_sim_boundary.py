"""The simulator's boundary: each unit's firmware in a module table of its own, nothing of it in
the process that runs the units, and nothing of the app in the simulator."""

from __future__ import annotations

import ast
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pooldesk_firmware.sim.loader import FirmwareImage
from pooldesk_firmware.sim.runner import SimulatedController

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE_NAMES = ("fw_", "prov", "crypto_", "ota_")
BOARD_MODULES = {"machine", "network", "ntptime", "onewire", "ds18x20", "cryptolib", "bluetooth"}


def _firmware_in_sys_modules() -> set[str]:
    return {
        name
        for name in sys.modules
        if name.startswith(FIRMWARE_NAMES) or name in BOARD_MODULES or name == "main"
    }


async def test_two_units_share_no_module_state_and_leave_the_host_process_alone(tmp_path):
    path_before = list(sys.path)
    host_time = vars(time).copy()
    a = SimulatedController(tmp_path / "a", index=0)
    b = SimulatedController(tmp_path / "b", index=1)
    async with a, b:
        assert a.image is not None
        assert b.image is not None
        for name in ("fw_controller", "fw_store", "fw_log", "machine", "time", "sys"):
            assert a.image.module(name) is not b.image.module(name), name
        # a module-level change in one unit's firmware is not seen by the other
        a.image.module("fw_ids").FW_VERSION = "9.9.9"
        assert b.image.module("fw_ids").FW_VERSION != "9.9.9"
        # each unit's `time.ticks_ms()` counts on its own clock
        a.device.clock.advance(100)
        ticks = a.image.module("time").ticks_diff
        a_ms, b_ms = a.image.module("time").ticks_ms(), b.image.module("time").ticks_ms()
        assert ticks(a_ms, b_ms) >= 99_000
        # each unit's sys.path is its own search path, not the process's
        assert a.image.module("sys").path is not sys.path
    assert not hasattr(time, "ticks_ms")
    assert not hasattr(time, "sleep_ms")
    assert vars(time) == host_time
    assert sys.path == path_before
    assert _firmware_in_sys_modules() == set()


async def test_a_reboot_starts_the_firmware_from_fresh_modules(tmp_path):
    async with SimulatedController(tmp_path / "a") as sim:
        assert sim.image is not None
        before = sim.image.module("fw_controller")
        await sim.reboot()
        assert sim.image.module("fw_controller") is not before
        assert sim.boots == 2


def test_the_firmware_gets_micropython_modules_not_cpython_ones():
    """Never kinder than the board: what MicroPython lacks, the firmware cannot import."""
    firmware = FirmwareImage()
    mp_time = firmware.module("time")
    assert mp_time is not time
    assert not hasattr(mp_time, "monotonic")  # CPython's, not MicroPython's
    assert mp_time.ticks_diff(mp_time.ticks_add(2**30 - 1, 2), 2**30 - 1) == 2
    for cpython_only in ("subprocess", "typing", "pathlib", "pooldesk_firmware"):
        with pytest.raises(ImportError):
            firmware.module(cpython_only)
    # a firmware module imports its neighbours from the unit's own table
    fw_boot = firmware.module("fw_boot")
    assert fw_boot.fw_store is firmware.modules["fw_store"]
    assert _firmware_in_sys_modules() == set()


def _app_imports(path: Path) -> list[str]:
    """`pooldesk` (the app) modules that a file imports, at the top or inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        found += [n for n in names if n == "pooldesk" or n.startswith("pooldesk.")]
    return found


def test_no_simulator_or_tool_file_imports_the_app():
    files = sorted((ROOT / "pooldesk_firmware").rglob("*.py"))
    assert len(files) > 20
    offenders = {str(p.relative_to(ROOT)): _app_imports(p) for p in files if _app_imports(p)}
    assert offenders == {}


def test_running_a_unit_on_a_virtual_radio_loads_nothing_of_the_app(tmp_path):
    """The simulator, the tools and a running unit (Bluetooth stand-in included) import no
    `pooldesk` (app) module; the virtual link comes from the caller."""
    probe = f"""
import asyncio, sys
from bumble.link import LocalLink
import pooldesk_firmware.sim.cli, pooldesk_firmware.tools.flash, pooldesk_firmware.tools.factory
import pooldesk_firmware.tools.release
from pooldesk_firmware.sim.runner import SimulatedController

async def main():
    async with SimulatedController({str(tmp_path)!r}, ble=LocalLink()) as sim:
        await sim.wait_until(lambda: sim.peripheral is not None and sim.controller is not None)
        sim.image.module("bluetooth")

asyncio.run(main())
print(sorted(m for m in sys.modules if m == "pooldesk" or m.startswith("pooldesk.")))
"""
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
