"""What each kind of install gets (pyproject.toml's extras, docs/build.md): the wheel installs only
`pooldesk*` packages, a server install pulls no Qt or Bluetooth and its backend starts without
them, and the app imports Bumble only when a Bumble radio is used."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from email.parser import Parser
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.backend import BackendProcess

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("pooldesk", "pooldesk_contract", "pooldesk_server", "pooldesk_firmware")
# Installed by the desktop or sim extras only: a headless server must run without any of them.
DESKTOP_ONLY = {
    "pyside6",
    "shiboken6",
    "qasync",
    "bleak",
    "bumble",
    "pyqtgraph",
    "keyring",
    "segno",
}
BLOCKED_IMPORTS = (
    "PySide6",
    "shiboken6",
    "qasync",
    "bleak",
    "bumble",
    "pyqtgraph",
    "keyring",
    "segno",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built offline from a copy of the packages (the tree stays clean)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    for package in PACKAGES:
        shutil.copytree(REPO / package, src / package, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(out),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("pooldesk-*.whl")
    return built


def requirements(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        headers = Parser().parsestr(archive.read(metadata).decode())
    return [Requirement(text) for text in headers.get_all("Requires-Dist") or []]


def installed_by(wheel: Path, extras: set[str]) -> set[str]:
    """The distributions `pip install 'pooldesk[extras]'` asks for (following pooldesk[...])."""
    reqs = requirements(wheel)
    wanted, names, todo = set(), set(), {"", *extras}
    while todo:
        extra = todo.pop()
        wanted.add(extra)
        for req in reqs:
            if req.marker is not None and not req.marker.evaluate({"extra": extra}):
                continue
            if req.marker is None and extra:
                continue  # the base list: counted once, under ""
            if canonicalize_name(req.name) == "pooldesk":
                todo |= set(req.extras) - wanted
            else:
                names.add(canonicalize_name(req.name))
    return names


def test_the_wheel_installs_only_pooldesk_packages(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        top = {name.split("/")[0] for name in archive.namelist()}
        names = set(archive.namelist())
    packages = {name for name in top if not name.endswith(".dist-info")}
    assert packages == set(PACKAGES)
    assert "pooldesk_contract/mqtt.schema.json" in names  # the MQTT payload schema ships too
    assert "pooldesk_contract/common_passwords.txt" in names  # the app's and server's blocklist


def test_each_extra_pulls_what_its_user_runs(wheel: Path) -> None:
    server = installed_by(wheel, {"server"})
    assert {"starlette", "uvicorn", "sqlalchemy", "alembic"} <= server
    assert server.isdisjoint(DESKTOP_ONLY)
    desktop = installed_by(wheel, {"desktop"})
    assert server | {"pyside6-essentials", "qasync", "bleak", "pyqtgraph"} <= desktop
    assert "bumble" not in desktop  # only the virtual radio and USB dongles need it
    assert "bumble" in installed_by(wheel, {"sim"})
    assert desktop | {"bumble", "esptool", "pyinstaller", "pytest"} <= installed_by(wheel, {"test"})
    bounded = {canonicalize_name(r.name): r.specifier for r in requirements(wheel)}
    # the Bumble back end subclasses bleak internals: both stay on the versions tested
    assert not bounded["bleak"].contains("4.0")
    assert not bounded["bumble"].contains("0.1.0")


BLOCKER = """\
import importlib.abc, sys

BLOCKED = {blocked!r}


class NotInstalled(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, NotInstalled())
"""


def not_installed(folder: Path, blocked: tuple[str, ...] = BLOCKED_IMPORTS) -> dict[str, str]:
    """Environment whose Python behaves as if the `blocked` packages were not installed."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(BLOCKER.format(blocked=blocked))
    path = os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path}


def test_a_server_install_serves_without_qt_or_bluetooth(tmp_path: Path) -> None:
    env = not_installed(tmp_path / "site")
    proof = subprocess.run(
        [sys.executable, "-c", "import PySide6"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert "No module named 'PySide6'" in proof.stderr  # the stand-in for "not installed" works
    data = tmp_path / "data"
    data.mkdir()
    backend = BackendProcess(data, env=env)
    backend.start()
    try:  # uvicorn listens once the app has started: migrated, its broker launched
        health = httpx.get(f"{backend.url}/healthz", timeout=10).json()
        assert health["components"]["database"] == {"ok": True, "detail": "ok"}, health
    finally:
        backend.stop()
    assert "Traceback" not in backend.log.read_text()


def test_the_app_imports_bumble_only_for_a_bumble_radio() -> None:
    probe = textwrap.dedent(
        """
        import sys
        import pooldesk.cli, pooldesk.ble.scan, pooldesk.ble.link
        from pooldesk.ble.radio import Radio, scanner_backend
        scanner_backend(Radio("os"))
        print(sorted({m.split(".")[0] for m in sys.modules} & {"bumble", "prompt_toolkit", "usb"}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == "[]"


def test_a_bumble_radio_without_bumble_says_what_to_install(tmp_path: Path) -> None:
    probe = textwrap.dedent(
        """
        from bleak.exc import BleakBluetoothNotAvailableError
        from pooldesk.ble.radio import Radio, scanner_backend
        try:
            scanner_backend(Radio("virtual"))
        except BleakBluetoothNotAvailableError as error:
            print(error)
        """
    )
    env = not_installed(tmp_path / "site", blocked=("bumble",))
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    assert "Bumble is not installed" in result.stdout
    assert "pip install 'pooldesk[sim]'" in result.stdout


@pytest.mark.parametrize(
    ("args", "blocked", "hint"),
    [
        (
            [],
            BLOCKED_IMPORTS,
            "the desktop app needs PySide6, which is not installed: "
            "pip install 'pooldesk[desktop]'",
        ),
        (
            ["demo", "--headless"],
            ("bumble",),
            "the demo needs bumble, which is not installed: pip install 'pooldesk[desktop,sim]'",
        ),
    ],
)
def test_a_command_without_its_extra_says_what_to_install(
    tmp_path: Path, args: list[str], blocked: tuple[str, ...], hint: str
) -> None:
    env = {**os.environ, **not_installed(tmp_path / "site", blocked), "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "pooldesk", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert (result.returncode, result.stderr.strip()) == (2, f"pooldesk: {hint}")
