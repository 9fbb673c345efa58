"""Which Bluetooth radio the app talks through.

``POOLDESK_BLE`` (or an explicit setting passed to :func:`radio_from_setting`) chooses:

- unset, empty, ``os`` or ``system``: the operating system's own bleak back end (BlueZ, WinRT,
  CoreBluetooth) -- real radios, the default;
- ``virtual``: Bumble's in-process virtual radio (a :class:`bumble.link.LocalLink` shared with
  the simulated controllers running in the same process, see :func:`get_virtual_link`);
- anything else: a Bumble transport name such as ``usb:0`` or ``serial:/dev/ttyUSB0`` for a
  dongle the operating system cannot drive (Bumble speaks HCI to it directly).

In both Bumble cases the app still uses bleak's ``BleakScanner``/``BleakClient``: the classes
returned by :func:`scanner_backend`/:func:`client_backend` plug Bumble in underneath.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Literal

# Bumble is imported only when a Bumble radio is used: it costs the app about 125 ms and pulls
# prompt_toolkit, pyusb and pyserial, and it is not installed without the `sim` extra.
if TYPE_CHECKING:
    from bleak.backends.client import BaseBleakClient
    from bleak.backends.scanner import BaseBleakScanner
    from bumble.link import LocalLink

ENV_VAR = "POOLDESK_BLE"

RadioKind = Literal["os", "virtual", "transport"]

_OS_WORDS = {"", "os", "system", "default", "bleak"}


@dataclass(frozen=True)
class Radio:
    """A radio choice: ``kind`` and, for ``transport``, the Bumble transport name."""

    kind: RadioKind
    transport: str | None = None

    @property
    def uses_bumble(self) -> bool:
        return self.kind != "os"

    def describe(self) -> str:
        if self.kind == "virtual":
            return "Bumble virtual radio (in-process)"
        if self.kind == "transport":
            return f"Bumble on {self.transport}"
        return "system Bluetooth"


def radio_from_setting(value: str | None) -> Radio:
    """Parse a setting value (see the module docstring). Raises ValueError on nonsense."""
    text = (value or "").strip()
    if text.lower() in _OS_WORDS:
        return Radio("os")
    if text.lower() == "virtual":
        return Radio("virtual")
    if ":" not in text and not text.replace("-", "").isalnum():
        raise ValueError(
            f"{ENV_VAR}={text!r} is neither 'virtual', 'os' nor a Bumble transport "
            "name such as 'usb:0' or 'serial:/dev/ttyUSB0'"
        )
    return Radio("transport", text)


_chosen: Radio | None = None


def use_radio(radio: Radio | None) -> None:
    """Override ``POOLDESK_BLE`` (e.g. from the app's settings); None returns to the variable."""
    global _chosen
    _chosen = radio


def current_radio() -> Radio:
    """The radio set by :func:`use_radio`, else the one in ``POOLDESK_BLE``."""
    if _chosen is not None:
        return _chosen
    return radio_from_setting(os.environ.get(ENV_VAR))


_virtual_link: LocalLink | None = None


def get_virtual_link() -> LocalLink:
    """The process-wide Bumble virtual radio.

    Simulated controllers (``pooldesk_firmware.sim.blectx.open_peripheral(get_virtual_link(),
    ...)``) and
    the app's Bumble central (``POOLDESK_BLE=virtual``) must share this one link to hear each
    other. Each side removes its own controller from it when closed.
    """
    global _virtual_link
    if _virtual_link is None:
        from bumble.link import LocalLink

        _virtual_link = LocalLink()
    return _virtual_link


def scanner_backend(radio: Radio | None = None) -> type[BaseBleakScanner] | None:
    """The ``backend=`` argument for ``BleakScanner``; None means bleak's OS default."""
    radio = radio or current_radio()
    if not radio.uses_bumble:
        apply_platform_fixes()
        return None
    return _bumble_backend(radio).BumbleScanner


def client_backend(radio: Radio | None = None) -> type[BaseBleakClient] | None:
    """The ``backend=`` argument for ``BleakClient``; None means bleak's OS default."""
    radio = radio or current_radio()
    if not radio.uses_bumble:
        apply_platform_fixes()
        return None
    return _bumble_backend(radio).BumbleClient


def _bumble_backend(radio: Radio) -> ModuleType:
    """``pooldesk.ble.bumble_backend``, or a clear error when Bumble is not installed."""
    try:
        import pooldesk.ble.bumble_backend as backend
    except ModuleNotFoundError as error:
        if error.name is None or error.name.split(".")[0] != "bumble":
            raise
        from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason

        raise BleakBluetoothNotAvailableError(
            f"{ENV_VAR} asks for the {radio.describe()}, but Bumble is not installed: "
            "install it with `pip install 'pooldesk[sim]'`, or unset the setting to use the "
            "system's Bluetooth.",
            BleakBluetoothNotAvailableReason.NO_BLUETOOTH,
        ) from error
    return backend


def apply_platform_fixes() -> None:
    """Let bleak's WinRT back end run on a Qt (STA) main thread.

    Qt initialises COM as a single-threaded apartment on the GUI thread; bleak's WinRT back end
    then refuses to run (it would hang) unless told that a Windows message loop is pumping,
    which is true inside a running QApplication with qasync. Only applies on Windows.
    """
    if sys.platform != "win32":
        return
    from bleak.backends.winrt.util import allow_sta

    allow_sta()
