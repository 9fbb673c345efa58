"""Errors of the provisioning client. Every one carries a plain message a person can act on."""

from __future__ import annotations

from pooldesk.core.failures import Code, Failure, failure


class ProvisioningError(Exception):
    """Base class; `str(error)` is a sentence for the installer (English, for logs).

    Raised with a `Failure`, it keeps it in `failure` and the UI words it in the user's
    language; raised with a text (`failure` is None), the text is what there is to show."""

    def __init__(self, message: str | Failure) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.failure = message if isinstance(message, Failure) else None


class LinkError(ProvisioningError):
    """The Bluetooth link failed (disconnected, GATT error). GattLink implementations raise it."""


class ProvisioningTimeout(ProvisioningError):
    """The controller did not answer in time."""


class InvalidClaimCode(ProvisioningError, ValueError):
    """The text typed or scanned is not a claim code at all (checked before any radio traffic)."""


class ClaimCodeForOtherDevice(InvalidClaimCode):
    """A label's QR text names another device than the one connected."""


class WrongClaimCode(ProvisioningError):
    """The controller refused the claim code; `retry_after` seconds must pass before retrying."""

    def __init__(self, retry_after: float = 0.0) -> None:
        text = (
            "The claim code does not match this controller. "
            "Check the label on the controller and enter the code again."
        )
        if retry_after > 0:
            text += f" You can try again in {retry_after:.0f} seconds."
        super().__init__(text)
        self.retry_after = retry_after


class RetryLater(ProvisioningError):
    """Too many wrong claim codes in a row: the controller waits `retry_after` seconds."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            "Too many wrong claim codes were tried on this controller. "
            f"Wait {max(retry_after, 1):.0f} seconds, then enter the code again."
        )
        self.retry_after = retry_after


class DeviceNotAuthentic(ProvisioningError):
    """The peer did not prove the claim code: it is not the controller it claims to be."""

    def __init__(self) -> None:
        super().__init__(failure(Code.DEVICE_NOT_AUTHENTIC))


class SessionRequired(ProvisioningError):
    """The request needs a secure session (open_session with the claim code first)."""


class ProtocolError(ProvisioningError):
    """The controller sent something this client does not understand."""


class DeviceError(ProvisioningError):
    """The controller refused a request: `code` is the protocol error code, `field` the field."""

    def __init__(self, code: str, message: str | Failure, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.field = field
