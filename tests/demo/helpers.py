"""Run `pooldesk demo` as a user would, and look for anything it left running."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pooldesk.demo.processes import processes_using

REPO = Path(__file__).resolve().parents[2]


def demo_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The demo's temporary folder lands in the test's folder (TMPDIR), so anything that
    outlives it can be found by its command line."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(TMPDIR=str(tmp_path), HOME=str(tmp_path / "home"), **extra)
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / "home" / name.lower())
    return env


def run_demo(
    tmp_path: Path, *args: str, command: list[str] | None = None, timeout: float = 150, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(command or [sys.executable, "-m", "pooldesk"]), "demo", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=demo_env(tmp_path, **extra),
        cwd=REPO,
        check=False,
    )


def leftovers(tmp_path: Path) -> list[str]:
    """Command lines of processes still using the test's folder (a backend, a broker)."""
    found = []
    for pid in processes_using(tmp_path):
        try:
            found.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


def demo_folders(tmp_path: Path) -> list[Path]:
    return sorted(tmp_path.glob("pooldesk-demo-*"))
