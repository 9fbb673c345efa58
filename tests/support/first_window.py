"""Time from starting a command to its first visible window, on a private Xvfb display.

    python -m tests.support.first_window dist/pooldesk/pooldesk    # prints seconds

Needs Xvfb and xdotool (Makefile APT_PACKAGES). Used by tests/packaging for the bundle's window
and for the start-up figures in docs/demo.md.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO


def _start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    read, write = os.pipe()
    xvfb = subprocess.Popen(
        # -noreset: the server would reset whenever its last client (an xdotool probe) leaves,
        # refusing the app's connection meanwhile
        [
            "Xvfb",
            "-displayfd",
            str(write),
            "-screen",
            "0",
            "1280x800x24",
            "-noreset",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()  # Xvfb writes the display number once it is ready
    if not number:
        xvfb.kill()
        raise RuntimeError("Xvfb did not start")
    return xvfb, f":{number}"


def _stop(app: subprocess.Popen[bytes]) -> None:
    """SIGTERM (`pooldesk demo` stops what it started), then SIGKILL what is left of its group."""
    app.terminate()
    with contextlib.suppress(subprocess.TimeoutExpired):
        app.wait(15)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(app.pid, signal.SIGKILL)
    app.wait()


def seconds_to_first_window(
    argv: Sequence[str], env: dict[str, str], name: str = "PoolDesk", timeout: float = 60.0
) -> float:
    """Start `argv` on a fresh display; seconds until a visible window whose title has `name`."""
    xvfb, display = _start_xvfb()
    env = {**env, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    env.pop("WAYLAND_DISPLAY", None)
    try:
        with tempfile.TemporaryFile() as log:
            return _watch(argv, env, name, timeout, log)
    finally:
        xvfb.terminate()
        xvfb.wait()


def _watch(
    argv: Sequence[str], env: dict[str, str], name: str, timeout: float, log: IO[bytes]
) -> float:
    started = time.monotonic()
    app = subprocess.Popen(
        list(argv), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        while time.monotonic() - started < timeout:
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", name],
                env=env,
                capture_output=True,
                check=False,
            )
            if found.stdout.strip():
                return time.monotonic() - started
            if app.poll() is not None:
                log.seek(0)
                raise RuntimeError(
                    f"{argv[0]} exited ({app.returncode}) before showing a window:\n"
                    + log.read().decode(errors="replace")[-2000:]
                )
            time.sleep(0.05)
        raise TimeoutError(f"no window named {name!r} after {timeout} s")
    finally:
        _stop(app)


if __name__ == "__main__":
    home = Path(os.environ.get("TMPDIR", "/tmp")) / f"first-window-{os.getpid()}"
    home.mkdir(parents=True, exist_ok=True)
    clean = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8"}
    sys.stdout.write(f"{seconds_to_first_window(sys.argv[1:], clean):.2f}\n")
