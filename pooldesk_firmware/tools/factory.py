"""Factory batch: device ids, claim codes, label text and the manifest for the backend.

    python -m pooldesk_firmware.tools.factory --count 10 --out batch-01
    python -m pooldesk_firmware.tools.factory --macs macs.txt --out batch-02   # real units, one
    MAC a line

Writes into OUT (which must not exist yet or be empty; everything appears at once or not at all):
  manifest.csv                      deviceId,claimCode — for `pooldesk-backend devices import`
  labels.txt                        every label's text, with the QR code's text
  devices/ESP-XXXXXX/factory.json   {"device_id", "claim_code"}: copy to the unit's flash root
Claim codes are secrets until printed: keep the batch folder private and delete it after use.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pooldesk_contract import claimcode, ids

MAX_COUNT = 100_000
_MAC = re.compile(r"^([0-9A-Fa-f]{2}[:-]?){5}[0-9A-Fa-f]{2}$")


class FactoryError(Exception):
    """A problem with the request; the message says what to change."""


@dataclass(frozen=True)
class Unit:
    device_id: str
    claim_code: str

    @property
    def label(self) -> str:
        return (
            "PoolDesk pool controller\n"
            f"Device      {self.device_id}\n"
            f"Claim code  {claimcode.grouped(self.claim_code)}\n"
            f"QR          {claimcode.qr_text(self.device_id, self.claim_code)}\n"
        )


def device_id_from_mac(mac: str) -> str:
    """`ESP-` and the last 6 hex digits of the MAC, as the firmware derives it."""
    text = mac.strip()
    if not _MAC.match(text):
        raise FactoryError(f"{mac!r} is not a MAC address like 24:6F:28:A1:B2:C3.")
    return ids.device_id_from_mac(bytes.fromhex(re.sub(r"[:-]", "", text)))


def random_device_ids(count: int) -> list[str]:
    """Distinct random ids for simulator and test batches (real units use --macs)."""
    found: set[str] = set()
    while len(found) < count:
        found.add(ids.device_id_from_mac(secrets.token_bytes(3)))
    return sorted(found)


def make_units(device_ids: list[str]) -> list[Unit]:
    seen: set[str] = set()
    for device_id in device_ids:
        if device_id in seen:
            raise FactoryError(f"{device_id} appears twice (two MACs end in the same 6 digits).")
        seen.add(device_id)
    return [Unit(d, claimcode.generate()) for d in device_ids]


def manifest_csv(units: list[Unit]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["deviceId", "claimCode"])
    for unit in units:
        writer.writerow([unit.device_id, unit.claim_code])
    return buf.getvalue()


def write_batch(units: list[Unit], out: Path, ota_key: str | None = None) -> None:
    """Write the batch into `out` atomically (a temp folder renamed into place). `ota_key`:
    the operator's public update key (hex, `pooldesk-release keygen`), put in every unit's
    factory.json so it accepts only releases signed with the matching private key."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FactoryError(f"{out} already exists and is not empty; choose a new folder.")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".factory-", dir=out.parent))
    try:
        os.chmod(staging, 0o700)
        (staging / "manifest.csv").write_text(manifest_csv(units))
        (staging / "labels.txt").write_text("\n".join(u.label for u in units))
        for unit in units:
            folder = staging / "devices" / unit.device_id
            folder.mkdir(parents=True)
            data = {"device_id": unit.device_id, "claim_code": unit.claim_code}
            if ota_key:
                data["ota_key"] = ota_key
            (folder / "factory.json").write_text(json.dumps(data) + "\n")
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def read_macs(path: Path) -> list[str]:
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise FactoryError(f"Cannot read {path}: {exc.strerror}.") from exc
    macs = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if not macs:
        raise FactoryError(f"{path} lists no MAC addresses.")
    return [device_id_from_mac(m) for m in macs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pooldesk_firmware.tools.factory",
        description="Make device ids, claim codes, labels and the backend manifest for a batch.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--count", type=int, help="this many units with random ids (simulator)")
    source.add_argument("--macs", type=Path, help="file with one MAC address a line (real units)")
    parser.add_argument("--out", type=Path, required=True, help="new folder for the batch")
    parser.add_argument(
        "--ota-key",
        type=Path,
        metavar="KEY.pub",
        help="public update key from `pooldesk-release keygen` (docs/updates.md)",
    )
    args = parser.parse_args(argv)
    try:
        if args.macs is not None:
            ids = read_macs(args.macs)
        else:
            if not 1 <= args.count <= MAX_COUNT:
                raise FactoryError(f"--count must be between 1 and {MAX_COUNT}.")
            ids = random_device_ids(args.count)
        units = make_units(ids)
        ota_key = None
        if args.ota_key is not None:
            from pooldesk_firmware.tools.release import ReleaseError, parse_public

            try:
                ota_key = parse_public(args.ota_key.read_text()).hex()
            except (OSError, ReleaseError) as exc:
                raise FactoryError(f"--ota-key {args.ota_key}: {exc}") from None
        write_batch(units, args.out, ota_key)
    except FactoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"{len(units)} units written to {args.out} "
        f"(manifest.csv, labels.txt, devices/*/factory.json)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
