"""Import the firmware's ``bluetooth``/``aioble`` stand-ins under the names the firmware uses."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

HOST_DIR = Path(__file__).resolve().parents[2] / "firmware" / "sim" / "host"


def import_standins() -> tuple[ModuleType, ModuleType]:
    """``bluetooth`` and ``aioble`` as ``import bluetooth, aioble`` sees them on the simulator.

    Only these two modules are taken from the stand-in folder (it is on ``sys.path`` just for
    the import), so the test process keeps CPython's own ``time``, ``os``...
    """
    if "aioble" in sys.modules and "bluetooth" in sys.modules:
        return sys.modules["bluetooth"], sys.modules["aioble"]
    sys.path.insert(0, str(HOST_DIR))
    try:
        bluetooth = importlib.import_module("bluetooth")
        aioble = importlib.import_module("aioble")
    finally:
        sys.path.remove(str(HOST_DIR))
    return bluetooth, aioble
