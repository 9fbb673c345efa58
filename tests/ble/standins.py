"""The firmware's ``bluetooth`` stand-in, as the simulator gives it to a unit's firmware."""

from __future__ import annotations

from types import ModuleType

from pooldesk_firmware.sim.loader import FirmwareImage

_FIRMWARE = FirmwareImage()


def import_bluetooth() -> ModuleType:
    """``bluetooth`` as ``import bluetooth`` sees it on the simulator: one per process here,
    loaded by the simulator's private importer (this process's modules stay CPython's)."""
    module: ModuleType = _FIRMWARE.module("bluetooth")
    return module
