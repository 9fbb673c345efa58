"""Factory manifest import: a CSV with the columns deviceId,claimCode.

The whole file is checked before anything is written; one bad line refuses the import and every
bad line is reported. Claim codes are stored as SHA-256 digests of their normalized form.
A device already in the manifest gets the new claim code.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import select

from pooldesk_server.db.engine import Database
from pooldesk_server.db.models import ManifestDevice
from pooldesk_server.db.types import utcnow
from pooldesk_server.devices.ids import DEVICE_ID_HINT, normalize_claim_code, normalize_device_id
from pooldesk_server.security.secrets_hashing import digest

# The factory tool (pooldesk_firmware/tools/factory.py) makes 16 base32 characters (80 bits);
# anything
# shorter could be guessed, so it is refused at import.
MIN_CLAIM_CODE = 16


class ManifestError(Exception):
    """The file cannot be imported; the message lists every problem with its line number."""


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int


def parse_manifest(text: str) -> dict[str, str]:
    """deviceId -> claim-code digest; raises ManifestError naming each bad line."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    if "deviceId" not in header or "claimCode" not in header:
        raise ManifestError("the first line must be the header: deviceId,claimCode")
    reader.fieldnames = header
    entries: dict[str, str] = {}
    problems: list[str] = []
    for row in reader:
        line = reader.line_num
        raw_id = (row.get("deviceId") or "").strip()
        raw_code = (row.get("claimCode") or "").strip()
        if not raw_id and not raw_code:
            continue
        device_id = normalize_device_id(raw_id)
        code = normalize_claim_code(raw_code)
        if device_id is None:
            problems.append(f"line {line}: {raw_id!r}: {DEVICE_ID_HINT}")
        elif len(code) < MIN_CLAIM_CODE:
            problems.append(
                f"line {line}: {device_id}: claim code missing or shorter than {MIN_CLAIM_CODE} "
                "characters (not counting spaces and dashes)"
            )
        elif device_id in entries:
            problems.append(f"line {line}: {device_id} is listed twice")
        else:
            entries[device_id] = digest(code)
    if problems:
        raise ManifestError("nothing imported:\n  " + "\n  ".join(problems))
    if not entries:
        raise ManifestError("nothing imported: the file lists no devices")
    return entries


async def import_manifest(database: Database, entries: dict[str, str]) -> ImportResult:
    now = utcnow()
    added = updated = 0
    async with database.write() as db:
        known = {
            row.device_id: row
            for row in (
                await db.scalars(
                    select(ManifestDevice).where(ManifestDevice.device_id.in_(list(entries)))
                )
            ).all()
        }
        for device_id, code_hash in entries.items():
            row = known.get(device_id)
            if row is None:
                db.add(
                    ManifestDevice(device_id=device_id, claim_code_hash=code_hash, imported_at=now)
                )
                added += 1
            else:
                row.claim_code_hash = code_hash
                row.imported_at = now
                updated += 1
    return ImportResult(added=added, updated=updated)
