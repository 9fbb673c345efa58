"""Bluetooth LE provisioning client (Qt-free, transport-agnostic). See docs/provisioning.md."""

from .claimcode import generate as generate_claim_code
from .claimcode import grouped as grouped_claim_code
from .claimcode import normalize as normalize_claim_code
from .claimcode import parse as parse_claim_code
from .claimcode import qr_text as claim_qr_text
from .client import ProvisioningClient, StatusWatch
from .errors import (
    ClaimCodeForOtherDevice,
    DeviceError,
    DeviceNotAuthentic,
    InvalidClaimCode,
    LinkError,
    ProtocolError,
    ProvisioningError,
    ProvisioningTimeout,
    RetryLater,
    SessionRequired,
    WrongClaimCode,
)
from .link import ENDPOINT_NAMES, GattLink
from .messages import FAILURE_ADVICE, Binding, DeviceInfo, StatusEvent, WifiNetwork
from .protocol import MANUFACTURER_ID, SERVICE_UUID, parse_manufacturer_data

__all__ = [
    "ENDPOINT_NAMES",
    "FAILURE_ADVICE",
    "MANUFACTURER_ID",
    "SERVICE_UUID",
    "Binding",
    "ClaimCodeForOtherDevice",
    "DeviceError",
    "DeviceInfo",
    "DeviceNotAuthentic",
    "GattLink",
    "InvalidClaimCode",
    "LinkError",
    "ProtocolError",
    "ProvisioningClient",
    "ProvisioningError",
    "ProvisioningTimeout",
    "RetryLater",
    "SessionRequired",
    "StatusEvent",
    "StatusWatch",
    "WifiNetwork",
    "WrongClaimCode",
    "claim_qr_text",
    "generate_claim_code",
    "grouped_claim_code",
    "normalize_claim_code",
    "parse_claim_code",
    "parse_manufacturer_data",
]
