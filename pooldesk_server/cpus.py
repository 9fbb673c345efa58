"""How many CPUs this process may really use: the cores it may run on (`taskset`, a cpuset), and
no more than a CPU quota allows (Docker's `--cpus`, systemd's `CPUQuota=`, a Kubernetes limit).
`os.cpu_count()` counts the host's cores, so in a container limited to 2 CPUs on a 64-core host
it would size the sign-in admission for 64 and let 128 password hashes queue at once."""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def usable_cpus(cgroup_root: Path = CGROUP_ROOT, own_cgroups: str | None = None) -> int:
    """At least 1. `own_cgroups` is the text of /proc/self/cgroup (read when not given)."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        count = os.cpu_count() or 1
    if own_cgroups is None:
        try:
            own_cgroups = Path("/proc/self/cgroup").read_text()
        except OSError:
            own_cgroups = ""
    quota = cpu_quota(cgroup_root, own_cgroups)
    if quota is not None:
        count = min(count, math.ceil(quota))
    return max(1, count)


def cpu_quota(cgroup_root: Path, own_cgroups: str) -> float | None:
    """The tightest CPU quota (in CPUs) on this process's cgroup or any above it, None if
    unlimited. cgroup v2: `cpu.max` ("max 100000" or "150000 100000"); v1: the `cpu`
    controller's `cpu.cfs_quota_us` (-1: unlimited) and `cpu.cfs_period_us`."""
    found: list[float] = []
    for line in own_cgroups.splitlines():
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        number, controllers, path = fields
        if number == "0" and controllers == "":  # v2 (unified)
            base = cgroup_root if _v2_only(cgroup_root) else cgroup_root / "unified"
            for folder in _up_from(base, path):
                limit = _read(folder / "cpu.max").split()
                if len(limit) == 2 and limit[0] != "max":
                    found.append(_ratio(limit[0], limit[1]))
        elif "cpu" in controllers.split(","):  # v1
            base = cgroup_root / controllers
            if not base.is_dir():
                base = cgroup_root / "cpu"
            for folder in _up_from(base, path):
                quota = _read(folder / "cpu.cfs_quota_us").strip()
                period = _read(folder / "cpu.cfs_period_us").strip()
                if quota and period and quota != "-1":
                    found.append(_ratio(quota, period))
    usable = [q for q in found if q > 0]
    return min(usable) if usable else None


def _v2_only(root: Path) -> bool:
    return (root / "cgroup.controllers").exists()


def _up_from(base: Path, path: str) -> list[Path]:
    """The cgroup's folder and each above it, up to the mount point."""
    parts = [p for p in path.split("/") if p]
    return [base.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _ratio(quota: str, period: str) -> float:
    try:
        return int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return 0.0
