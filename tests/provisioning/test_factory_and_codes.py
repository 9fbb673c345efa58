"""Factory batches (ids, claim codes, labels, manifest) and claim-code handling."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from pooldesk.provisioning import (
    ClaimCodeForOtherDevice,
    InvalidClaimCode,
    claim_qr_text,
    generate_claim_code,
    grouped_claim_code,
    normalize_claim_code,
    parse_claim_code,
)
from pooldesk.provisioning.claimcode import ALPHABET
from pooldesk.provisioning.protocol import parse_manufacturer_data
from pooldesk_firmware.tools import factory


def test_claim_codes_carry_80_random_bits():
    codes = {generate_claim_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 16 and set(c) <= set(ALPHABET) for c in codes)
    assert len(ALPHABET) == 32  # 16 chars x 5 bits = 80 bits
    used = {ch for c in codes for ch in c}
    assert used == set(ALPHABET)


def test_typed_codes_are_normalised_and_bad_ones_explained():
    assert normalize_claim_code(" kq4m-7xtz 2pb6-wrhd ") == "KQ4M7XTZ2PB6WRHD"
    assert normalize_claim_code("K04M7XTZ2PB6WRHD") == "KO4M7XTZ2PB6WRHD"  # 0 read as O
    assert grouped_claim_code("KQ4M7XTZ2PB6WRHD") == "KQ4M-7XTZ-2PB6-WRHD"
    with pytest.raises(InvalidClaimCode, match="16"):
        normalize_claim_code("KQ4M-7XTZ")
    with pytest.raises(InvalidClaimCode, match="9"):
        normalize_claim_code("KQ4M7XTZ2PB6WRH9")


def test_qr_text_round_trip_and_device_check():
    text = claim_qr_text("esp-a1b2c3", "KQ4M7XTZ2PB6WRHD")
    assert text == "POOLDESK:1:ESP-A1B2C3:KQ4M7XTZ2PB6WRHD"
    assert parse_claim_code(text) == ("ESP-A1B2C3", "KQ4M7XTZ2PB6WRHD")
    assert parse_claim_code("KQ4M-7XTZ-2PB6-WRHD") == (None, "KQ4M7XTZ2PB6WRHD")
    with pytest.raises(ClaimCodeForOtherDevice, match="ESP-A1B2C3"):
        parse_claim_code(text, expected_device_id="ESP-000001")


def test_manufacturer_data_names_the_device_and_its_bound_flag():
    from tests.provisioning.device_side import prov_core

    for bound in (False, True):
        data = prov_core.manufacturer_data("ESP-A1B2C3", bound)
        assert parse_manufacturer_data(data) == ("ESP-A1B2C3", bound)
    assert parse_manufacturer_data(b"XX\x01\x00abc") is None


def test_batch_writes_manifest_labels_and_factory_files(tmp_path):
    out = tmp_path / "batch"
    assert factory.main(["--count", "5", "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "manifest.csv").open()))
    assert len(rows) == 5
    assert list(rows[0]) == ["deviceId", "claimCode"]
    labels = (out / "labels.txt").read_text()
    for row in rows:
        assert row["deviceId"].startswith("ESP-")
        assert len(row["deviceId"]) == 10
        assert normalize_claim_code(row["claimCode"]) == row["claimCode"]
        assert grouped_claim_code(row["claimCode"]) in labels
        assert claim_qr_text(row["deviceId"], row["claimCode"]) in labels
        data = json.loads((out / "devices" / row["deviceId"] / "factory.json").read_text())
        assert data == {"device_id": row["deviceId"], "claim_code": row["claimCode"]}
    assert len({r["deviceId"] for r in rows}) == 5


def test_batch_from_macs_uses_the_last_six_hex_digits(tmp_path):
    macs = tmp_path / "macs.txt"
    macs.write_text("24:6f:28:a1:b2:c3\n# a comment\n24-6F-28-00-00-01\n")
    out = tmp_path / "b"
    assert factory.main(["--macs", str(macs), "--out", str(out)]) == 0
    ids = [r["deviceId"] for r in csv.DictReader((out / "manifest.csv").open())]
    assert ids == ["ESP-A1B2C3", "ESP-000001"]


def test_bad_requests_fail_plainly_and_leave_nothing(tmp_path, capsys):
    macs = tmp_path / "macs.txt"
    macs.write_text("24:6f:28:a1:b2:c3\nnot-a-mac\n")
    assert factory.main(["--macs", str(macs), "--out", str(tmp_path / "x")]) == 2
    assert "not a MAC address" in capsys.readouterr().err
    macs.write_text("24:6f:28:a1:b2:c3\n11:22:33:a1:b2:c3\n")
    assert factory.main(["--macs", str(macs), "--out", str(tmp_path / "x")]) == 2
    assert "twice" in capsys.readouterr().err
    assert factory.main(["--count", "0", "--out", str(tmp_path / "x")]) == 2
    assert not (tmp_path / "x").exists()
    assert factory.main(["--count", "1", "--out", str(tmp_path / "y")]) == 0
    assert factory.main(["--count", "1", "--out", str(tmp_path / "y")]) == 2
    assert "not empty" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["macs.txt", "y"]


def test_cli_runs_as_a_module(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pooldesk_firmware.tools.factory",
            "--count",
            "2",
            "--out",
            str(tmp_path / "cli"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "2 units" in result.stdout


def test_vectors_are_up_to_date(tmp_path):
    """The committed vectors are exactly what the generator makes."""
    from pooldesk_firmware.tools import make_vectors

    from .vectors import VECTORS_DIR

    for path in make_vectors.generate(tmp_path):
        assert path.read_text() == (VECTORS_DIR / path.name).read_text(), path.name


def test_the_backend_accepts_the_factory_manifest_and_the_canonical_codes(tmp_path):
    """The manifest parses with the backend's own importer, and the code the app sends
    (canonical, from whatever the installer typed) matches what the factory listed."""
    from pooldesk_server.devices.ids import normalize_claim_code as backend_normalize
    from pooldesk_server.devices.manifest import parse_manifest
    from pooldesk_server.security.secrets_hashing import digest

    out = tmp_path / "batch"
    assert factory.main(["--count", "3", "--out", str(out)]) == 0
    entries = parse_manifest((out / "manifest.csv").read_text())
    rows = list(csv.DictReader((out / "manifest.csv").open()))
    assert set(entries) == {r["deviceId"] for r in rows}
    for row in rows:
        typed = grouped_claim_code(row["claimCode"]).lower()
        _, canonical = parse_claim_code(typed)
        assert entries[row["deviceId"]] == digest(backend_normalize(canonical))
