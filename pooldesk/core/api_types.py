"""The backend's HTTP API bodies as types, defined once.

The backend validates requests with them, answers with them and generates `/openapi.json` from
them (pooldesk_server/http/contract.py); the app's BackendClient parses every answer into them. Only
msgspec here: no Qt, no Starlette. Field names are the API's camelCase (`rename="camel"`).
Unknown fields in an answer are ignored, so an older app keeps working with a newer server.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

# -- shared pieces --------------------------------------------------------------------------------

DEVICE_ID_PATTERN = "^[Ee][Ss][Pp]-[0-9A-Fa-f]{6}$"
Time = Annotated[str, Meta(description="UTC ISO-8601, e.g. 2026-01-31T12:00:00.000Z")]
DeviceIdText = Annotated[
    str, Meta(pattern=DEVICE_ID_PATTERN, max_length=32, examples=["ESP-A1B2C3"])
]


class Body(msgspec.Struct, rename="camel", kw_only=True):
    """Base of every body."""


class Answer(Body, kw_only=True):
    """A success answer: `{"ok": true, ...}`."""

    ok: Literal[True] = True


class ErrorDetail(Body, kw_only=True):
    code: str
    message: str


class ErrorAnswer(Body, kw_only=True):
    """Every failure: `{"ok": false, "error": {"code", "message"}}`."""

    ok: Literal[False] = False
    error: ErrorDetail


# -- requests -------------------------------------------------------------------------------------
# Limits here are the ones the server checks (its messages name them); `max_length` values are
# what the handler refuses before looking any further.


class RegisterRequest(Body, kw_only=True):
    username: Annotated[str, Meta(pattern="^[a-z0-9_-]{3,32}$", max_length=64)]
    email: Annotated[str, Meta(max_length=254, pattern="^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$")]
    password: Annotated[
        str,
        Meta(
            min_length=12,
            max_length=1024,
            description="12+ characters with upper case, lower case, a digit and a symbol; "
            "not a common password",
        ),
    ]
    device_id: DeviceIdText
    claim_code: Annotated[str, Meta(max_length=128)] | None = None


class LoginRequest(Body, kw_only=True):
    username: Annotated[str, Meta(max_length=254)]
    password: Annotated[str, Meta(max_length=1024)]


class RefreshRequest(Body, kw_only=True):
    refresh_token: Annotated[str, Meta(max_length=4096)]


class PasswordChangeRequest(Body, kw_only=True):
    current_password: Annotated[str, Meta(max_length=1024)]
    new_password: Annotated[str, Meta(min_length=12, max_length=1024)]


class AccountDeleteRequest(Body, kw_only=True):
    password: Annotated[str, Meta(max_length=1024)]


NAME_PATTERN = "^[^\\x00-\\x1f\\x7f]*[^\\s\\x00-\\x1f\\x7f][^\\x00-\\x1f\\x7f]*$"
# The server refuses past 256 characters unread, and past 64 once spaces are trimmed.
DeviceName = Annotated[
    str, Meta(max_length=256, pattern=NAME_PATTERN, description="1-64 characters once trimmed")
]


class AddDeviceRequest(Body, kw_only=True):
    device_id: DeviceIdText
    name: DeviceName | None = None
    claim_code: Annotated[str, Meta(max_length=128)] | None = None


class RenameDeviceRequest(Body, kw_only=True):
    name: DeviceName


class FirmwareUpdateRequest(Body, kw_only=True):
    version: (
        Annotated[str, Meta(max_length=32, description="a stored release; default: the newest")]
        | None
    ) = None


class EventRequest(Body, kw_only=True):
    device_id: DeviceIdText | None = None
    type: Annotated[str, Meta(pattern="^[A-Za-z0-9_.:/-]{1,64}$", max_length=64)]
    data: Any = None
    ts: Annotated[str, Meta(max_length=40, description="ISO-8601 with a zone")] | None = None


# -- answers --------------------------------------------------------------------------------------


class UserInfo(Body, kw_only=True):
    id: str
    username: str
    email: str
    device_id: str | None  # the account's first device


Role = Literal["owner", "operator", "viewer", "installer"]


class Device(Body, kw_only=True):
    device_id: str
    name: str
    type: str
    topic_prefix: str  # always the owner's device prefix (docs/sharing.md)
    status: str
    last_seen: Time | None
    created_at: Time
    # docs/sharing.md: whose device it is and the caller's role on it. Defaults: the fields a
    # server without sharing leaves out (the caller's own device).
    owner: str | None = None
    role: Role = "owner"


UpdateState = Literal[
    "requested",
    "offered",
    "downloading",
    "verifying",
    "installed",
    "confirmed",
    "rolled_back",
    "failed",
]


class FirmwareUpdate(Body, kw_only=True):
    """One firmware update of a device and how far it got (docs/updates.md)."""

    id: str
    version: str
    state: UpdateState
    progress: Annotated[int, Meta(ge=0, le=100)] | None  # only while `downloading`
    reason: str | None
    started_by: str
    started_at: Time
    updated_at: Time


class Firmware(Body, kw_only=True):
    running: str | None  # from the unit's last boot event
    available: str | None  # a newer stored release this unit may take
    update: FirmwareUpdate | None  # the latest one, ended or not


class ListedDevice(Device, kw_only=True):
    """A device as GET /api/devices lists it: with its firmware."""

    firmware: Firmware


class SessionInfo(Body, kw_only=True):
    id: str
    created_at: Time
    last_used_at: Time
    expires_at: Time
    user_agent: str
    client_address: str
    current: bool


class HistoryEvent(Body, kw_only=True):
    id: int
    device_id: str
    type: str
    ts: Time
    data: Any


class AuditEntry(Body, kw_only=True):
    id: int
    at: Time
    event: str
    outcome: Literal["success", "failure"]
    client_address: str
    detail: dict[str, Any]


class Message(Answer, kw_only=True):
    message: str


class Registered(Answer, kw_only=True):
    message: str
    user_id: str
    device_id: str | None  # None: an account without a controller (docs/sharing.md)
    username: str


class TokenPair(Answer, kw_only=True):
    token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: str


class SignedIn(TokenPair, kw_only=True):
    user: UserInfo


class Verified(Answer, kw_only=True):
    user: UserInfo
    session_id: str


class Sessions(Answer, kw_only=True):
    sessions: list[SessionInfo]


class Devices(Answer, kw_only=True):
    devices: list[ListedDevice]


class DeviceAnswer(Answer, kw_only=True):
    device: Device


class UpdateStarted(Answer, kw_only=True):
    update: FirmwareUpdate


class UpdatesStarted(Answer, kw_only=True):
    updates: list[FirmwareUpdate]  # devices already updating are left out


class ApiKey(Answer, kw_only=True):
    device_id: str
    api_key: str


class EventAnswer(Answer, kw_only=True):
    event: HistoryEvent


class History(Answer, kw_only=True):
    events: list[HistoryEvent]
    next_cursor: str | None


class Export(Answer, kw_only=True):
    data: dict[str, Any]


class Audit(Answer, kw_only=True):
    entries: list[AuditEntry]
    next_cursor: str | None


class Component(Body, kw_only=True):
    ok: bool
    detail: str


class Health(Answer, kw_only=True):
    status: Literal["ok"]
    # Only when an extension (the broker layer) reports its parts.
    components: dict[str, Component] | msgspec.UnsetType = msgspec.UNSET


class Unhealthy(Body, kw_only=True):
    """503 from /healthz and /readyz: what is down."""

    ok: Literal[False] = False
    status: Literal["unavailable"] | msgspec.UnsetType = msgspec.UNSET
    components: dict[str, Component] | msgspec.UnsetType = msgspec.UNSET
    error: ErrorDetail


class MqttCredentials(Answer, kw_only=True):
    mqtt_user: str
    mqtt_password: str
    client_id: str
    topic_prefix: str
    broker_url: str
    ca_cert: str | None = None  # the CA to trust for a TLS broker URL (None: system trust)


class DeviceCredentials(MqttCredentials, kw_only=True):
    api_key: str | None = None


# -- sharing, installer set-up codes, hand-over (docs/sharing.md) ----------------------------------


class Share(Body, kw_only=True):
    """One account's role on one device, or on all of the owner's devices (`device_id` None)."""

    id: str
    owner: str
    member: str
    device_id: str | None
    role: Literal["operator", "viewer"]
    status: Literal["pending", "active"]
    created_at: Time
    accepted_at: Time | None


class ShareAnswer(Answer, kw_only=True):
    share: Share


class Shares(Answer, kw_only=True):
    given: list[Share]
    received: list[Share]  # `pending` ones are the invitation inbox


class NewSetupCode(Body, kw_only=True):
    id: str
    code: str  # 12 Crockford base32 characters, shown XXXX-XXXX-XXXX; only in this answer
    expires_at: Time


class SetupCodeAnswer(Answer, kw_only=True):
    setup_code: NewSetupCode


class LiveSetupCode(Body, kw_only=True):
    id: str
    expires_at: Time
    created_at: Time


class SetupCodes(Answer, kw_only=True):
    setup_codes: list[LiveSetupCode]


TransferStatus = Literal["offered", "moving", "done", "cancelled", "failed"]


class Transfer(Body, kw_only=True):
    id: str
    device_id: str
    from_user: str = msgspec.field(name="from")
    to_user: str = msgspec.field(name="to")
    history: Literal["keep", "clear"]
    status: TransferStatus
    reason: str | None  # why it waits (device_offline) or why it failed
    created_at: Time
    updated_at: Time


class TransferAnswer(Answer, kw_only=True):
    transfer: Transfer


class Transfers(Answer, kw_only=True):
    outgoing: list[Transfer]
    incoming: list[Transfer]


class OpenApiDocument(msgspec.Struct, kw_only=True):
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


def parse(answer_type: type[Any], content: bytes) -> Any:
    """An answer's bytes as `answer_type`; msgspec.ValidationError / DecodeError when not."""
    return msgspec.json.decode(content, type=answer_type)
