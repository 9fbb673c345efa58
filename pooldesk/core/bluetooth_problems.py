"""Why Bluetooth cannot be used, in words a pool owner can act on.

bleak and Bumble fail in many ways when the computer's Bluetooth is not usable: no BlueZ or
D-Bus (FileNotFoundError / ConnectionRefusedError on the system bus socket), no adapter, the
adapter switched off, permission refused (BleakBluetoothNotAvailableError with its reason), a
Bumble transport that does not exist (OSError), or a Bluetooth service that never answers.
`classify()` turns any of these into a `BluetoothUnavailable` (a ProvisioningError, so the
wizard shows it like every other step failure) whose `failure` says what to do.
"""

from __future__ import annotations

import enum

from pooldesk.core.failures import Code, failure
from pooldesk.provisioning import ProvisioningError


class Cause(enum.Enum):
    NO_SERVICE = "no_service"  # BlueZ / D-Bus missing or not running
    NO_ADAPTER = "no_adapter"
    POWERED_OFF = "powered_off"
    DENIED = "denied"
    NOT_ANSWERING = "not_answering"  # the Bluetooth service did not answer in time
    OTHER = "other"


CODES = {
    Cause.NO_SERVICE: Code.BLUETOOTH_NO_SERVICE,
    Cause.NO_ADAPTER: Code.BLUETOOTH_NO_ADAPTER,
    Cause.POWERED_OFF: Code.BLUETOOTH_OFF,
    Cause.DENIED: Code.BLUETOOTH_DENIED,
    Cause.NOT_ANSWERING: Code.BLUETOOTH_NOT_ANSWERING,
    Cause.OTHER: Code.BLUETOOTH_UNAVAILABLE,
}


class BluetoothUnavailable(ProvisioningError):
    """Bluetooth cannot be used; `cause` says why, `failure` what to do (`str()`: in English)."""

    def __init__(self, cause: Cause, detail: str = "") -> None:
        super().__init__(failure(CODES[cause]))
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
