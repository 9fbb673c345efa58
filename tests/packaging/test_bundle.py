"""The PyInstaller bundle: what the spec feeds PyInstaller exists, and (slow) the built folder
runs `--version` and the whole headless demo with nothing from the source tree."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from tests.demo.helpers import demo_folders, leftovers
from tests.support.first_window import seconds_to_first_window

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "pooldesk.spec"
SIZE_BUDGET = 200 * 1000 * 1000  # bytes in the bundle's folder (issue 16; 313 MB before)


class _Recorder:
    """Stands in for PyInstaller's spec globals to read what the spec passes them."""

    def __init__(self) -> None:
        self.calls: dict[str, tuple[tuple, dict]] = {}

    def __getitem__(self, name: str):
        def record(*args, **kwargs):
            self.calls[name] = (args, kwargs)
            return type(name, (), {"pure": [], "scripts": [], "binaries": [], "datas": []})()

        return record


def spec_inputs() -> dict[str, tuple[tuple, dict]]:
    recorder = _Recorder()
    names = {n: recorder[n] for n in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE")}
    exec(compile(SPEC.read_text(), str(SPEC), "exec"), {"SPECPATH": str(REPO), **names})  # noqa: S102
    return recorder.calls


def test_every_file_and_module_the_spec_names_exists() -> None:
    calls = spec_inputs()
    _, analysis = calls["Analysis"]
    sources = [Path(src) for src, _ in analysis["datas"]]
    assert all(path.exists() for path in sources)
    bundled = {str(Path(dest) / Path(src).name) for src, dest in analysis["datas"]}
    for needed in (
        "resources/translations/pooldesk_es.qm",
        "resources/icons/pooldesk-256.png",
        "pooldesk_firmware/device/fw_controller.py",
        "pooldesk_firmware/device/prov.py",
        "pooldesk_firmware/sim/host/machine.py",
        "pooldesk_firmware/sim/host/bluetooth.py",
        "pooldesk_server/db/migrations/env.py",
        "pooldesk_contract/common_passwords.txt",
        "pooldesk_contract/mqtt.schema.json",
    ):
        assert needed in bundled, needed
    missing = [m for m in analysis["hiddenimports"] if importlib.util.find_spec(m) is None]
    assert missing == []
    wanted = {
        "keyring.backends.SecretService",
        "uvicorn.loops.auto",
        "PySide6.QtCore",
        "sqlalchemy.dialects.sqlite.aiosqlite",
        "bumble.transport.usb",
        "hashlib",
    }
    assert wanted <= set(analysis["hiddenimports"])
    excluded = set(analysis["excludes"])
    assert {"PySide6.QtNetwork", "asyncpg", "uvloop"} <= excluded
    assert not {m.split(".")[0] for m in analysis["hiddenimports"]} & excluded
    assert not {m.rpartition(".")[0] for m in analysis["hiddenimports"]} & excluded
    assert calls["EXE"][1]["name"] == "pooldesk"


def test_icons_for_every_platform_exist() -> None:
    icons = REPO / "resources" / "icons"
    assert (icons / "pooldesk.ico").read_bytes()[:4] == b"\x00\x00\x01\x00"  # ICO header
    assert (icons / "pooldesk.icns").read_bytes()[:4] == b"icns"
    assert (icons / "pooldesk.svg").exists()


@pytest.mark.slow
@pytest.mark.timeout(2000)  # the build and runs below carry their own, tighter timeouts
def test_the_built_bundle_runs_the_demo_without_the_source(tmp_path) -> None:
    """Builds with PyInstaller (several minutes), then runs the bundle from an empty folder."""
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(tmp_path / "dist"),
            "--workpath",
            str(tmp_path / "build"),
            str(SPEC),
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=1500,
    )
    built_in = time.monotonic() - started
    exe = tmp_path / "dist" / "pooldesk" / ("pooldesk.exe" if os.name == "nt" else "pooldesk")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME": str(run_dir),
        "LANG": "C.UTF-8",
        "TMPDIR": str(run_dir),
    }
    version = subprocess.run(
        [str(exe), "--version"],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    expected = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert version.stdout.strip() == f"pooldesk {expected}"
    demo = subprocess.run(
        [str(exe), "demo", "--headless"],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "All 14 steps held" in demo.stdout
    assert re.search(r"\[ ok \] history holds both", demo.stdout)
    assert leftovers(run_dir) == []
    assert demo_folders(run_dir) == []
    size = sum(
        f.stat().st_size for f in exe.parent.rglob("*") if f.is_file() and not f.is_symlink()
    )
    assert size < SIZE_BUDGET, f"the bundle holds {size / 1e6:.0f} MB"
    # the app's window opens: the Qt parts left out are ones it does not load
    window = seconds_to_first_window([str(exe)], env)
    print(f"bundle built in {built_in:.0f} s, {size / 1e6:.0f} MB, first window {window:.1f} s")
