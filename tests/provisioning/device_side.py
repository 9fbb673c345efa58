"""The device-side provisioning code (pooldesk_firmware/device) for this CPython test process.

The modules come from one `FirmwareImage` (the simulator's private importer, with its
`cryptolib` and `bluetooth` stand-ins): nothing is added to this process's sys.path or
sys.modules, so CPython's own modules stay what they are.
"""

from __future__ import annotations

from pathlib import Path

from pooldesk_firmware.sim.loader import DEVICE_DIR, FirmwareImage

ROOT = Path(__file__).resolve().parents[2]
VECTORS_DIR = ROOT / "tests" / "vectors"

FIRMWARE = FirmwareImage()
crypto_sym = FIRMWARE.module("crypto_sym")
crypto_x25519 = FIRMWARE.module("crypto_x25519")
prov_check = FIRMWARE.module("prov_check")
prov_core = FIRMWARE.module("prov_core")
prov_frame = FIRMWARE.module("prov_frame")
prov_session = FIRMWARE.module("prov_session")

__all__ = [
    "DEVICE_DIR",
    "FIRMWARE",
    "VECTORS_DIR",
    "crypto_sym",
    "crypto_x25519",
    "prov_check",
    "prov_core",
    "prov_frame",
    "prov_session",
]
