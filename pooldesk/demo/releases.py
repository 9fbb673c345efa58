"""The demo's firmware releases: a throw-away signing key made for this run (never one kept in
the repository), a good release one version up, and a deliberately broken one (it fails at
start-up) above it. Built with `pooldesk-release` from the firmware's own sources as `.py`
files, since the simulated controllers run CPython (docs/updates.md)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from pooldesk.demo.processes import DemoError, backend_command
from pooldesk_firmware.tools import release

BROKEN_LINE = '\nraise RuntimeError("demo: this release is broken on purpose")\n'


def _next(version: str, step: int) -> str:
    parts = list(release.version_key(version)) + [0] * 3
    return f"{parts[0]}.{parts[1] + step}.0"


@dataclass(frozen=True)
class DemoReleases:
    public_key: str
    good: Path
    good_version: str
    bad: Path
    bad_version: str


def prepare_releases(folder: Path, running: str) -> DemoReleases:
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / "demo-ota-key.pem"
    public_key = release.keygen(key).read_text().strip()
    good_version, bad_version = _next(running, 1), _next(running, 2)
    good = release.build(key, good_version, folder / f"fw-{good_version}.zip", fmt="py")
    broken = folder / "broken-src"
    shutil.copytree(release.DEVICE_DIR, broken, ignore=shutil.ignore_patterns("__pycache__"))
    controller = broken / "fw_controller.py"
    controller.write_text(controller.read_text() + BROKEN_LINE)
    bad = release.build(key, bad_version, folder / f"fw-{bad_version}.zip", source=broken, fmt="py")
    return DemoReleases(public_key, good, good_version, bad, bad_version)


def add_releases(data_dir: Path, env: dict[str, str], releases: DemoReleases) -> None:
    """`pooldesk-backend firmware add` for both, as an operator would."""
    bundles = (str(releases.good), str(releases.bad))
    done = subprocess.run(
        backend_command("firmware", "add", *bundles, "--data-dir", str(data_dir)),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        raise DemoError(f"storing the demo releases failed: {done.stderr.strip()}")
