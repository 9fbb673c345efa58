"""The primary worker's health report, shared with the other workers through a file.

With `serve --workers N` only the primary (worker 0) runs the broker: it writes what it found to
`<data dir>/health.json` after every check, and the supervisor overwrites it the moment the
primary exits (pooldesk_server/workers.py). Standard library only: the supervisor imports this
at start, so writing the report when the primary dies costs no import on that path.

A report's age is taken from the system-wide monotonic clock (the same for every process on the
machine, on Linux), so a wall-clock step (NTP) neither ages a fresh report nor refreshes a stale
one. That clock starts again at each boot: a report of another boot (a reboot, or the data folder
moved to another machine) is stale, never fresh. `at` (wall clock) is kept for people reading
the file.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("pooldesk_server.broker")

REPORT_FILE = "health.json"

Components = dict[str, dict[str, Any]]


def write_report(data_dir: Path, components: Components) -> None:
    """`<data_dir>/health.json`, replaced atomically."""
    path = data_dir / REPORT_FILE
    tmp = path.with_name(f".{REPORT_FILE}.{os.getpid()}")
    body = json.dumps(
        {
            "at": time.time(),
            "monotonic": time.monotonic(),
            "boot": boot_id(),
            "components": components,
        }
    )
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(body)
        os.replace(tmp, path)
    except OSError as error:
        log.warning("health report for the other workers not written: %s", error)
        with contextlib.suppress(OSError):
            tmp.unlink()


def report_stamp(path: Path) -> tuple[int, int, int] | None:
    """(inode, modification time in ns, size) of the report, None if there is none: a new report
    (it is always replaced, never rewritten in place) has another stamp."""
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_ino, found.st_mtime_ns, found.st_size


def read_report(path: Path) -> tuple[float, Components]:
    """(age in seconds, components); the age is infinite if there is no readable report."""
    try:
        found = json.loads(path.read_text())
        components = dict(found["components"])
        if "monotonic" in found:
            age = time.monotonic() - float(found["monotonic"])
            if found.get("boot") != boot_id() or age < 0:
                age = float("inf")  # written in another boot: that clock is not ours
        else:  # written by an older version
            age = time.time() - float(found["at"])
    except (OSError, ValueError, KeyError, TypeError):
        return float("inf"), {}
    return age, components


@functools.cache
def boot_id() -> str:
    """This boot's id (Linux), "" where there is none."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""
