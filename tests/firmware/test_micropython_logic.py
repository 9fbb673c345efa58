"""The firmware's pure logic under the real MicroPython interpreter (tests/firmware/mpy/)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import zoneinfo
from pathlib import Path

import pytest

from pooldesk_firmware.sim.loader import FirmwareImage
from tests.support import micropython

_firmware = FirmwareImage()  # the firmware's own modules, apart from this process's
fw_tzdb = _firmware.module("fw_tzdb")

SCRIPT = micropython.SCRIPTS_DIR / "mpy_logic.py"
START = int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp())


def _offset(tz: zoneinfo.ZoneInfo, t: int) -> int:
    return int(dt.datetime.fromtimestamp(t, tz).utcoffset().total_seconds())


def tz_expectations(zone: str) -> list[tuple[int, int]]:
    """UTC offsets from the tz database over two years: every 11 h 13 min, and the second
    before and the second of each change."""
    tz = zoneinfo.ZoneInfo(zone)
    samples = list(range(START, START + 2 * 366 * 86400, 11 * 3600 + 13 * 60))
    out = [(t, _offset(tz, t)) for t in samples]
    changes: list[tuple[int, int]] = []
    for (a, oa), (b, ob) in itertools.pairwise(out):
        if oa != ob:  # bisect to the exact instant of the change
            while b - a > 1:
                mid = (a + b) // 2
                if _offset(tz, mid) == oa:
                    a = mid
                else:
                    b = mid
            changes += [(a, oa), (b, ob)]
    return out + changes


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mpy-data") / "data.json"
    path.write_text("{}")
    with open(f"{path}.tz", "w") as f:
        for zone in sorted(fw_tzdb.ZONES):
            f.write(json.dumps([zone, tz_expectations(zone)]) + "\n")
    return path


@pytest.mark.parametrize("name", micropython.cases(SCRIPT))
def test_logic_under_micropython(name: str, data_file: Path, tmp_path: Path) -> None:
    micropython.run_case(SCRIPT, name, env={"PD_TMP": str(tmp_path), "PD_DATA": str(data_file)})
