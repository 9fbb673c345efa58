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

from pooldesk_contract import accounts, ids
from pooldesk_contract.refusals import Reason

# -- shared pieces --------------------------------------------------------------------------------

DEVICE_ID_PATTERN = ids.ANY_CASE_PATTERN
Time = Annotated[str, Meta(description="UTC ISO-8601, e.g. 2026-01-31T12:00:00.000Z")]
DeviceIdText = Annotated[
    str, Meta(pattern=DEVICE_ID_PATTERN, max_length=32, examples=[ids.EXAMPLE])
]


class Body(msgspec.Struct, rename="camel", kw_only=True):
    """Base of every body."""


class Answer(Body, kw_only=True):
    """A success answer: `{"ok": true, ...}`."""

    ok: Literal[True] = True


# Listed in the document (`pooldesk_contract.refusals`), read as any string: a newer server's
# new reason must not make an older app fail to read the refusal.
ReasonText = Annotated[str, Meta(extra_json_schema={"enum": [r.value for r in Reason]})]


class ErrorDetail(Body, kw_only=True):
    """`code`: the kind of refusal (one per status); `reason`: which refusal of that kind, where
    a status has several meanings (a 409 `conflict` is `device_registered_elsewhere`, a 404
    `device_not_found`, a 429 `too_many_attempts`…; docs/backend.md); `message`: for people."""

    code: str
    message: str
    reason: ReasonText | msgspec.UnsetType = msgspec.UNSET  # absent where the code says it all


class ErrorAnswer(Body, kw_only=True):
    """Every failure: `{"ok": false, "error": {"code", "message", "reason"?}}`."""

    ok: Literal[False] = False
    error: ErrorDetail


# -- requests -------------------------------------------------------------------------------------
# Limits here are the ones the server checks (its messages name them); `max_length` values are
# what the handler refuses before looking any further.


class RegisterRequest(Body, kw_only=True):
    username: Annotated[str, Meta(pattern=f"^{accounts.USERNAME_PATTERN}$", max_length=64)]
    email: Annotated[str, Meta(max_length=254, pattern="^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$")]
    password: Annotated[
        str,
        Meta(
            min_length=accounts.PASSWORD_MIN,
            max_length=1024,
            description="12+ characters with upper case, lower case, a digit and a symbol; "
            "not a common password",
        ),
    ]
    # Left out: an account without a controller yet (docs/sharing.md).
    device_id: DeviceIdText | None = None
    claim_code: Annotated[str, Meta(max_length=128)] | None = None


class LoginRequest(Body, kw_only=True):
    username: Annotated[str, Meta(max_length=254)]
    password: Annotated[str, Meta(max_length=1024)]


class RefreshRequest(Body, kw_only=True):
    refresh_token: Annotated[str, Meta(max_length=4096)]


class PasswordChangeRequest(Body, kw_only=True):
    current_password: Annotated[str, Meta(max_length=1024)]
    new_password: Annotated[str, Meta(min_length=accounts.PASSWORD_MIN, max_length=1024)]


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
    # An installer adds the device for the code's owner (docs/sharing.md "Set-up codes").
    setup_code: Annotated[str, Meta(max_length=64)] | None = None


class RenameDeviceRequest(Body, kw_only=True):
    name: DeviceName


class FirmwareUpdateRequest(Body, kw_only=True):
    version: (
        Annotated[str, Meta(max_length=32, description="a stored release; default: the newest")]
        | None
    ) = None


class TransferRequest(Body, kw_only=True):
    """Hand a device over to another account (docs/sharing.md)."""

    username: Annotated[str, Meta(max_length=64, description="the account to receive it")]
    history: Annotated[
        str, Meta(max_length=64, description='"keep" (it stays with the device) or "clear"')
    ]


class EventRequest(Body, kw_only=True):
    device_id: DeviceIdText | None = None
    type: Annotated[str, Meta(pattern="^[A-Za-z0-9_.:/-]{1,64}$", max_length=64)]
    data: Any = None
    ts: Annotated[str, Meta(max_length=40, description="ISO-8601 with a zone")] | None = None


ShareRoleText = Annotated[
    str, Meta(max_length=16, pattern="^(operator|viewer)$", description="operator or viewer")
]


class ShareRequest(Body, kw_only=True):
    """Invite an account to one device, or (no device_id) to all of yours (docs/sharing.md)."""

    username: Annotated[str, Meta(max_length=64)]
    role: ShareRoleText
    device_id: DeviceIdText | None = None


class ShareRoleRequest(Body, kw_only=True):
    role: ShareRoleText


# -- answers --------------------------------------------------------------------------------------


class UserInfo(Body, kw_only=True):
    id: str
    username: str
    email: str
    device_id: str | None  # the account's first device


DeviceRole = Literal["owner", "operator", "viewer", "installer"]


def device_role(value: str) -> DeviceRole:
    """A role as stored, checked (docs/sharing.md)."""
    if value not in ("owner", "operator", "viewer", "installer"):
        raise ValueError(f"unknown device role {value!r}")
    return value  # type: ignore[return-value]


class Device(Body, kw_only=True):
    # Where own and shared devices meet (GET /api/devices, GET /api/devices/{id}, adds): the
    # owner's username and the caller's role (docs/sharing.md).
    owner: str | msgspec.UnsetType = msgspec.UNSET
    role: DeviceRole | msgspec.UnsetType = msgspec.UNSET
    device_id: str
    name: str
    type: str
    topic_prefix: str
    status: str
    last_seen: Time | None
    created_at: Time


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


class Share(Body, kw_only=True):
    """One account's role on one device, or on all of the owner's devices (device_id None)."""

    id: str
    owner: str
    member: str
    device_id: str | None
    role: Literal["operator", "viewer"]
    status: Literal["pending", "active"]
    created_at: Time
    accepted_at: Time | None


class SetupCode(Body, kw_only=True):
    id: str
    code: Annotated[str, Meta(description="XXXX-XXXX-XXXX, shown once")]
    expires_at: Time


class SetupCodeInfo(Body, kw_only=True):
    id: str
    expires_at: Time
    created_at: Time


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
    device_id: str | None  # None: registered without a controller
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


TransferStatus = Literal["offered", "moving", "done", "cancelled", "failed"]


class Transfer(Body, kw_only=True):
    """A hand-over of a device to another account (docs/sharing.md)."""

    id: str
    device_id: str
    from_: str = msgspec.field(name="from")  # the old owner's username
    to: str
    history: Literal["keep", "clear"]
    status: TransferStatus
    reason: str | None  # why it waits (`device_offline`), failed or how it ended
    created_at: Time
    updated_at: Time


class TransferAnswer(Answer, kw_only=True):
    transfer: Transfer


class Transfers(Answer, kw_only=True):
    outgoing: list[Transfer]  # given by this account, newest first
    incoming: list[Transfer]  # offered to this account


class ListedDeviceAnswer(Answer, kw_only=True):
    device: ListedDevice


class ShareAnswer(Answer, kw_only=True):
    share: Share


class Shares(Answer, kw_only=True):
    given: list[Share]
    received: list[Share]  # the pending ones are the invitation inbox


class SetupCodeAnswer(Answer, kw_only=True):
    setup_code: SetupCode


class SetupCodes(Answer, kw_only=True):
    setup_codes: list[SetupCodeInfo]  # live ones, without the codes


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


class OpenApiDocument(msgspec.Struct, kw_only=True):
    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]


def parse(answer_type: type[Any], content: bytes) -> Any:
    """An answer's bytes as `answer_type`; msgspec.ValidationError / DecodeError when not."""
    return msgspec.json.decode(content, type=answer_type)
