"""Why Bluetooth cannot be used, in words a pool owner can act on.

bleak and Bumble fail in many ways when the computer's Bluetooth is not usable: no BlueZ or
D-Bus (FileNotFoundError / ConnectionRefusedError on the system bus socket), no adapter, the
adapter switched off, permission refused (BleakBluetoothNotAvailableError with its reason), a
Bumble transport that does not exist (OSError), or a Bluetooth service that never answers.
`classify()` turns any of these into a `BluetoothUnavailable` (a ProvisioningError, so the
wizard shows it like every other step failure) whose message says what to do.
"""

from __future__ import annotations

import enum

from pooldesk.provisioning import ProvisioningError


class Cause(enum.Enum):
    NO_SERVICE = "no_service"  # BlueZ / D-Bus missing or not running
    NO_ADAPTER = "no_adapter"
    POWERED_OFF = "powered_off"
    DENIED = "denied"
    NOT_ANSWERING = "not_answering"  # the Bluetooth service did not answer in time
    OTHER = "other"


MESSAGES = {
    Cause.NO_SERVICE: (
        "This computer's Bluetooth service is not running (on Linux: BlueZ). Install or start "
        "it (for example “sudo systemctl start bluetooth”), then press Rescan."
    ),
    Cause.NO_ADAPTER: (
        "This computer has no Bluetooth adapter. Plug in a Bluetooth adapter, or use a computer "
        "or phone with Bluetooth, then press Rescan."
    ),
    Cause.POWERED_OFF: (
        "Bluetooth is switched off. Turn it on in the system settings, then press Rescan."
    ),
    Cause.DENIED: (
        "PoolDesk is not allowed to use Bluetooth. Allow it in the system settings (on Linux, "
        "ask your administrator to add you to the “bluetooth” group), then press Rescan."
    ),
    Cause.NOT_ANSWERING: (
        "Bluetooth did not answer. Turn Bluetooth off and on again (or restart the computer), "
        "then press Rescan."
    ),
    Cause.OTHER: (
        "Bluetooth cannot be used on this computer right now. Check that it is on, then press "
        "Rescan."
    ),
}


class BluetoothUnavailable(ProvisioningError):
    """Bluetooth cannot be used; `cause` says why, `str()` what to do (English)."""

    def __init__(self, cause: Cause, detail: str = "") -> None:
        super().__init__(MESSAGES[cause])
        self.cause = cause
        self.detail = detail  # the original error, for the log only


_DENIED_WORDS = ("accessdenied", "notauthorized", "notpermitted", "permission", "denied")
_OFF_WORDS = ("not powered", "powered off", "notready", "not ready", "rfkill", "blocked")
_NO_ADAPTER_WORDS = ("no bluetooth adapter", "adapter not found", "no adapter")
_NO_SERVICE_WORDS = (
    "org.bluez",
    "serviceunknown",
    "system_bus_socket",
    "dbus",
    "d-bus",
    "bluez",
)


def classify(exc: BaseException) -> BluetoothUnavailable:
    """The user-facing problem for an error raised by the Bluetooth stack."""
    if isinstance(exc, BluetoothUnavailable):
        return exc
    detail = f"{type(exc).__name__}: {exc}"
    reason = _bleak_reason(exc)
    if reason is not None:
        return BluetoothUnavailable(reason, detail)
    if isinstance(exc, TimeoutError):
        return BluetoothUnavailable(Cause.NOT_ANSWERING, detail)
    if isinstance(exc, PermissionError):
        return BluetoothUnavailable(Cause.DENIED, detail)
    text = str(exc).lower()
    if any(word in text for word in _DENIED_WORDS):
        return BluetoothUnavailable(Cause.DENIED, detail)
    if any(word in text for word in _OFF_WORDS):
        return BluetoothUnavailable(Cause.POWERED_OFF, detail)
    if any(word in text for word in _NO_ADAPTER_WORDS):
        return BluetoothUnavailable(Cause.NO_ADAPTER, detail)
    if isinstance(exc, FileNotFoundError | ConnectionRefusedError) or any(
        word in text for word in _NO_SERVICE_WORDS
    ):
        return BluetoothUnavailable(Cause.NO_SERVICE, detail)
    if isinstance(exc, OSError):  # a Bumble transport (USB dongle, serial port) that is not there
        return BluetoothUnavailable(Cause.NO_ADAPTER, detail)
    return BluetoothUnavailable(Cause.OTHER, detail)


def _bleak_reason(exc: BaseException) -> Cause | None:
    try:
        from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason
    except ImportError:  # an older bleak without reasons: the words decide
        return None
    if not isinstance(exc, BleakBluetoothNotAvailableError):
        return None
    reasons = BleakBluetoothNotAvailableReason
    return {
        reasons.NO_BLUETOOTH: Cause.NO_ADAPTER,
        reasons.NO_BLE_CENTRAL_ROLE: Cause.NO_ADAPTER,
        reasons.POWERED_OFF: Cause.POWERED_OFF,
        reasons.DENIED_BY_USER: Cause.DENIED,
        reasons.DENIED_BY_SYSTEM: Cause.DENIED,
        reasons.DENIED_BY_UNKNOWN: Cause.DENIED,
    }.get(exc.reason, Cause.OTHER)
