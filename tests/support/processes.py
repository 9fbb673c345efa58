"""Child processes that tests start (serve, mosquitto) die with the test run.

pytest-timeout, a CI cancel or a developer's kill -9 ends pytest without running fixture
finalizers; a `serve` started with `start_new_session=True` would then keep running (and keep its
managed broker and ports). On Linux the kernel can send the child a signal when its parent dies.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import signal
import sys
from collections.abc import Callable
from pathlib import Path

_PR_SET_PDEATHSIG = 1
_libc = (
    ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True) if sys.platform == "linux" else None
)


def _die_with_parent() -> None:
    """Runs in the child between fork and exec. The signal follows the thread that forked: start
    long-lived children from the main thread (fixtures do), not from a worker thread."""
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def die_with_parent() -> Callable[[], None] | None:
    """The `preexec_fn` for `subprocess.Popen`: SIGTERM to the child when pytest dies."""
    return _die_with_parent if _libc is not None else None


def children_of(pid: int) -> list[int]:
    """The live (not zombie) child processes of `pid`, found by their parent in /proc/*/stat
    (/proc/PID/task/PID/children is missing on some sandboxed kernels)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[1] == str(pid) and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return found
