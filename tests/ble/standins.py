"""Import the firmware's ``bluetooth`` stand-in under the name the firmware uses."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

HOST_DIR = Path(__file__).resolve().parents[2] / "pooldesk_firmware" / "sim" / "host"


def import_bluetooth() -> ModuleType:
    """``bluetooth`` as ``import bluetooth`` sees it on the simulator.

    Only this module is taken from the stand-in folder (it is on ``sys.path`` just for the
    import), so the test process keeps CPython's own ``time``, ``os``...
    """
    if "bluetooth" in sys.modules:
        return sys.modules["bluetooth"]
    sys.path.insert(0, str(HOST_DIR))
    try:
        return importlib.import_module("bluetooth")
    finally:
        sys.path.remove(str(HOST_DIR))
