"""The sign-in admission is sized from the CPUs the server may really use (pooldesk_server/cpus.py):
the cores it is pinned to and a container's CPU quota, not the host's core count."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pooldesk_server.cpus import cpu_quota, usable_cpus

AFFINITY = len(os.sched_getaffinity(0))


def test_a_server_pinned_to_one_core_admits_two_sign_ins_at_once():
    probe = "from pooldesk_server.http.admission import default_slots; print(default_slots())"
    pinned = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
    )
    assert pinned.stdout.split() == ["2"], pinned.stderr
    free = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert free.stdout.split() == [str(2 * usable_cpus())], free.stderr


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_a_cgroup_v2_quota_limits_the_cpus_counted_the_tightest_one_above_wins(tmp_path: Path):
    _write(tmp_path / "cgroup.controllers", "cpu memory\n")
    _write(tmp_path / "pods/web/cpu.max", "150000 100000\n")  # 1.5 CPUs
    _write(tmp_path / "pods/cpu.max", "max 100000\n")
    assert cpu_quota(tmp_path, "0::/pods/web\n") == 1.5
    assert usable_cpus(tmp_path, "0::/pods/web\n") == min(AFFINITY, 2)
    _write(tmp_path / "pods/cpu.max", "50000 100000\n")  # half a CPU for the whole group
    assert usable_cpus(tmp_path, "0::/pods/web\n") == 1


def test_a_cgroup_v1_quota_counts_and_minus_one_means_none(tmp_path: Path):
    own = "4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n0::/\n"
    _write(tmp_path / "cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "100000\n")
    _write(tmp_path / "cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n")
    assert cpu_quota(tmp_path, own) == 1.0
    assert usable_cpus(tmp_path, own) == 1
    _write(tmp_path / "cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1\n")
    assert cpu_quota(tmp_path, own) is None
    assert usable_cpus(tmp_path, own) == AFFINITY


def test_no_quota_or_unreadable_files_count_the_cores_it_may_run_on(tmp_path: Path):
    assert cpu_quota(tmp_path, "") is None
    assert cpu_quota(tmp_path, "garbage\n0::/gone\n") is None
    assert usable_cpus(tmp_path, "0::/gone\n") == AFFINITY
