"""The primary worker's health report as the other workers read it
(pooldesk_server/broker/health_report.py): fresh when just written, stale when it comes from
another boot or machine, whatever its clock says."""

from __future__ import annotations

import json
import time
from pathlib import Path

from pooldesk_server.broker.health_report import (
    REPORT_FILE,
    read_report,
    report_stamp,
    write_report,
)

BROKER_OK = {"broker": {"ok": True, "detail": "running"}}


def test_a_report_just_written_is_fresh_and_replacing_it_changes_its_stamp(tmp_path: Path):
    write_report(tmp_path, BROKER_OK)
    path = tmp_path / REPORT_FILE
    age, components = read_report(path)
    assert 0 <= age < 5
    assert components == BROKER_OK
    before = report_stamp(path)
    write_report(tmp_path, {"broker": {"ok": False, "detail": "the primary exited"}})
    assert report_stamp(path) != before  # the other workers read it again at once


def _rewrite(path: Path, **changes: object) -> None:
    report = json.loads(path.read_text())
    report.update(changes)
    path.write_text(json.dumps(report))


def test_a_report_of_another_boot_is_stale_even_if_its_clock_looks_recent(tmp_path: Path):
    write_report(tmp_path, BROKER_OK)
    path = tmp_path / REPORT_FILE
    _rewrite(path, boot="00000000-0000-0000-0000-000000000000")  # the folder came from elsewhere
    assert read_report(path)[0] == float("inf")


def test_a_report_from_the_future_of_this_clock_is_stale(tmp_path: Path):
    write_report(tmp_path, BROKER_OK)
    path = tmp_path / REPORT_FILE
    _rewrite(path, monotonic=time.monotonic() + 3600)
    assert read_report(path)[0] == float("inf")


def test_no_report_or_a_damaged_one_reads_as_never_reported(tmp_path: Path):
    path = tmp_path / REPORT_FILE
    assert read_report(path) == (float("inf"), {})
    path.write_text('{"monotonic": ')
    assert read_report(path) == (float("inf"), {})
