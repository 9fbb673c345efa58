"""Signed firmware releases for over-the-air updates (docs/updates.md).

    pooldesk-release keygen --out ota-key.pem          # private key (keep it) + ota-key.pub
    pooldesk-release build --key ota-key.pem --version 0.5.0 [--min-previous 0.4.0] [--out F]

A bundle is a zip: `manifest.json` (the signed bytes), `manifest.sig` (Ed25519, base64) and
`files/<name>`, the firmware's compiled modules (mpy-cross, as pooldesk-flash compiles them) and
data files. `--format py` keeps the sources: the simulator runs CPython and cannot load .mpy.
The unit carries only the public key (factory.json "ota_key", hex); the private key never
leaves the operator.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

DEVICE_DIR = Path(__file__).resolve().parent.parent / "device"
# Never part of an update: they choose and start the version (pooldesk_firmware/device/fw_boot.py).
STAY_IN_ROOT = ("main.py", "fw_boot.py")
CHUNK = 4096
MAX_FILES = 128
_VERSION = re.compile(r"\d{1,4}(\.\d{1,4}){0,3}")


class ReleaseError(Exception):
    """Something the operator must fix; the message says what."""


@dataclass(frozen=True)
class Bundle:
    manifest_text: str
    signature: bytes
    files: dict[str, bytes]

    @property
    def manifest(self) -> dict:
        return json.loads(self.manifest_text)

    @property
    def version(self) -> str:
        return str(self.manifest["version"])


def check_version(text: str) -> str:
    if not _VERSION.fullmatch(text or ""):
        raise ReleaseError(f"version {text!r}: use numbers with dots, like 0.5.0")
    return text


def version_key(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in check_version(text).split("."))


# ---- keys --------------------------------------------------------------------------------


def keygen(out: Path) -> Path:
    """Write a new private key (PEM, mode 0600) to `out` and its public key (hex) beside it."""
    if out.exists():
        raise ReleaseError(f"{out} exists: choose another file, a key is never overwritten")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    out.touch(mode=0o600)
    out.write_bytes(pem)
    pub = out.with_suffix(".pub")
    pub.write_text(public_hex(key) + "\n")
    return pub


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as e:
        raise ReleaseError(f"cannot read the private key {path}: {e}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ReleaseError(f"{path} is not an Ed25519 key: make one with pooldesk-release keygen")
    return key


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes_raw().hex()


def parse_public(text: str) -> bytes:
    """A public key as the operator keeps it: 64 hex characters."""
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ReleaseError("a public update key is 64 hex characters (pooldesk-release keygen)")
    return raw


# ---- building ----------------------------------------------------------------------------


def _source_copy(source: Path, version: str, into: Path) -> Path:
    """The firmware sources with FW_VERSION set to `version`, without the boot files."""
    into.mkdir(parents=True)
    for path in sorted(source.iterdir()):
        if path.is_file() and path.suffix in (".py", ".txt") and path.name not in STAY_IN_ROOT:
            shutil.copy2(path, into / path.name)
    ids = into / "fw_ids.py"
    text, n = re.subn(r'FW_VERSION = "[^"]*"', f'FW_VERSION = "{version}"', ids.read_text())
    if n != 1:
        raise ReleaseError("fw_ids.py has no FW_VERSION line to set")
    ids.write_text(text)
    return into


def collect_files(source: Path, version: str, fmt: str) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory(prefix="pooldesk-release-") as tmp:
        src = _source_copy(source, version, Path(tmp) / "src")
        files: dict[str, bytes] = {}
        if fmt == "mpy":
            from pooldesk_firmware.tools.flash import FlashError, compile_firmware

            try:
                compiled = compile_firmware(Path(tmp) / "build", device_dir=src)
            except FlashError as e:
                raise ReleaseError(str(e)) from None
            for item in compiled:
                files[item.target] = item.source.read_bytes()
        else:
            for path in sorted(src.glob("*.py")):
                files[path.name] = path.read_bytes()
        for path in sorted(src.glob("*.txt")):
            files[path.name] = path.read_bytes()
    return files


def manifest_for(
    files: dict[str, bytes], version: str, min_previous: str | None, chunk: int = CHUNK
) -> str:
    if len(files) > MAX_FILES:
        raise ReleaseError(f"{len(files)} files: at most {MAX_FILES}")
    entries = []
    for name in sorted(files):
        data = files[name]
        chunks = [
            hashlib.sha256(data[i : i + chunk]).hexdigest() for i in range(0, len(data), chunk)
        ]
        if not chunks:
            chunks = [hashlib.sha256(b"").hexdigest()]
        entries.append(
            {
                "name": name,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "chunks": chunks,
            }
        )
    body = {
        "format": 1,
        "version": check_version(version),
        "min_previous": check_version(min_previous) if min_previous else None,
        "chunk": chunk,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": entries,
    }
    return json.dumps(body, separators=(",", ":"))


def write_bundle(path: Path, manifest_text: str, signature: bytes, files: dict[str, bytes]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", manifest_text)
        z.writestr("manifest.sig", base64.b64encode(signature).decode())
        for name, data in sorted(files.items()):
            z.writestr("files/" + name, data)
    path.write_bytes(buf.getvalue())


def build(
    key_path: Path,
    version: str,
    out: Path | None = None,
    *,
    min_previous: str | None = None,
    source: Path = DEVICE_DIR,
    fmt: str = "mpy",
) -> Path:
    """Build and sign a bundle; -> its path (default `pooldesk-fw-<version>.zip`)."""
    check_version(version)
    key = load_private(key_path)
    if fmt not in ("mpy", "py"):
        raise ReleaseError("--format is mpy (the board) or py (the simulator)")
    files = collect_files(source, version, fmt)
    text = manifest_for(files, version, min_previous)
    out = out or Path(f"pooldesk-fw-{version}.zip")
    write_bundle(out, text, key.sign(text.encode()), files)
    return out


# ---- reading -----------------------------------------------------------------------------


def read_bundle(data: bytes) -> Bundle:
    """Parse a bundle's bytes; ReleaseError when it is not one or its files do not match the
    manifest (the signature is checked separately, by `verify`)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            text = z.read("manifest.json").decode()
            sig = base64.b64decode(z.read("manifest.sig"), validate=True)
            files = {
                n[len("files/") :]: z.read(n)
                for n in z.namelist()
                if n.startswith("files/") and len(n) > len("files/")
            }
        manifest = json.loads(text)
        listed = {f["name"]: f for f in manifest["files"]}
        check_version(manifest["version"])
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as e:
        raise ReleaseError(f"not a PoolDesk firmware bundle: {e}") from None
    if set(listed) != set(files):
        raise ReleaseError("the bundle's files differ from its manifest")
    for name, data in files.items():
        if hashlib.sha256(data).hexdigest() != listed[name]["sha256"]:
            raise ReleaseError(f"{name}: its SHA-256 differs from the manifest")
    return Bundle(text, sig, files)


def verify(bundle: Bundle, public_key: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            bundle.signature, bundle.manifest_text.encode()
        )
    except Exception:  # noqa: BLE001 - any failure to verify is a bad signature
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pooldesk-release", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("keygen", help="make an update signing key")
    k.add_argument("--out", type=Path, default=Path("pooldesk-ota-key.pem"))
    b = sub.add_parser("build", help="build and sign a release bundle")
    b.add_argument("--key", type=Path, required=True)
    b.add_argument("--version", required=True)
    b.add_argument("--min-previous")
    b.add_argument("--out", type=Path)
    b.add_argument("--source", type=Path, default=DEVICE_DIR)
    b.add_argument("--format", choices=("mpy", "py"), default="mpy")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "keygen":
            pub = keygen(args.out)
            print(f"private key: {args.out} (keep it safe; never on a unit)")
            print(f"public key:  {pub} — put it in each unit's factory.json as ota_key")
        else:
            out = build(
                args.key,
                args.version,
                args.out,
                min_previous=args.min_previous,
                source=args.source,
                fmt=args.format,
            )
            print(f"{out}: firmware {args.version}, signed")
    except ReleaseError as e:
        print(f"pooldesk-release: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
