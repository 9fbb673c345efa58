"""Load the device-side provisioning code (pooldesk_firmware/device) into this CPython test process.

The firmware folder and the simulator's `cryptolib` stand-in are appended to sys.path (after the
standard library, so nothing of CPython is shadowed).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEVICE_DIR = ROOT / "pooldesk_firmware" / "device"
HOST_DIR = ROOT / "pooldesk_firmware" / "sim" / "host"
VECTORS_DIR = ROOT / "tests" / "vectors"

for _path in (str(DEVICE_DIR), str(HOST_DIR)):
    if _path not in sys.path:
        sys.path.append(_path)

import crypto_sym  # noqa: E402
import crypto_x25519  # noqa: E402
import prov_check  # noqa: E402
import prov_core  # noqa: E402
import prov_frame  # noqa: E402
import prov_session  # noqa: E402

__all__ = [
    "DEVICE_DIR",
    "VECTORS_DIR",
    "crypto_sym",
    "crypto_x25519",
    "prov_check",
    "prov_core",
    "prov_frame",
    "prov_session",
]
