"""Typed results of the backend's JSON answers (only the fields the app uses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pooldesk.core import api_types as api


def parse_time(value: Any) -> datetime | None:
    """UTC ISO-8601 (with `Z`) or epoch seconds -> aware datetime; None when absent or bad."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class User:
    id: str
    username: str
    email: str = ""
    device_id: str = ""

    @classmethod
    def from_api(cls, user: api.UserInfo) -> User:
        return cls(
            id=user.id, username=user.username, email=user.email, device_id=user.device_id or ""
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        return cls(
            id=str(data.get("id", "")),
            username=str(data.get("username", "")),
            email=str(data.get("email", "")),
            device_id=str(data.get("deviceId", "") or ""),
        )


@dataclass(frozen=True)
class SessionInfo:
    id: str
    created_at: datetime | None
    last_used_at: datetime | None
    user_agent: str
    current: bool

    @classmethod
    def from_api(cls, session: api.SessionInfo) -> SessionInfo:
        return cls(
            id=session.id,
            created_at=parse_time(session.created_at),
            last_used_at=parse_time(session.last_used_at),
            user_agent=session.user_agent,
            current=session.current,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionInfo:
        return cls(
            id=str(data.get("id", "")),
            created_at=parse_time(data.get("createdAt")),
            last_used_at=parse_time(data.get("lastUsedAt")),
            user_agent=str(data.get("userAgent") or ""),
            current=bool(data.get("current")),
        )


@dataclass(frozen=True)
class MqttCredentials:
    user: str
    password: str = field(repr=False)
    client_id: str
    topic_prefix: str
    broker_url: str
    ca_cert: str | None = None

    @classmethod
    def from_api(cls, answer: api.MqttCredentials) -> MqttCredentials:
        return cls(
            user=answer.mqtt_user,
            password=answer.mqtt_password,
            client_id=answer.client_id,
            topic_prefix=answer.topic_prefix,
            broker_url=answer.broker_url,
            ca_cert=getattr(answer, "ca_cert", None) or None,
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MqttCredentials:
        return cls(
            user=str(data["mqttUser"]),
            password=str(data["mqttPassword"]),
            client_id=str(data["clientId"]),
            topic_prefix=str(data["topicPrefix"]),
            broker_url=str(data["brokerUrl"]),
            ca_cert=data.get("caCert") or None,
        )


@dataclass(frozen=True)
class DeviceInfo:
    device_id: str  # as the API spells it, e.g. ESP-A1B2C3
    name: str
    topic_prefix: str
    status: str = "offline"
    last_seen: datetime | None = None
    owner: str = ""  # username of the owner ("" from a server without sharing)
    role: str = "owner"  # owner | operator | viewer | installer (docs/sharing.md)

    @property
    def key(self) -> str:
        """The lower-case id used in topics and as the dashboard's key."""
        return self.device_id.lower()

    @classmethod
    def from_api(cls, device: api.Device) -> DeviceInfo:
        return cls(
            device_id=device.device_id,
            name=device.name or device.device_id,
            topic_prefix=device.topic_prefix,
            status=device.status or "offline",
            last_seen=parse_time(device.last_seen),
            owner=device.owner if isinstance(device.owner, str) else "",
            role=device.role if isinstance(device.role, str) else "owner",
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DeviceInfo:
        return cls(
            device_id=str(data["deviceId"]),
            name=str(data.get("name") or data["deviceId"]),
            topic_prefix=str(data.get("topicPrefix") or ""),
            status=str(data.get("status") or "offline"),
            last_seen=parse_time(data.get("lastSeen")),
            owner=str(data.get("owner") or ""),
            role=str(data.get("role") or "owner"),
        )


@dataclass(frozen=True)
class Share:
    """One account's role on one device, or on all of the owner's devices (device_id None)."""

    id: str
    owner: str
    member: str
    device_id: str | None
    role: str  # operator | viewer
    status: str  # pending | active
    created_at: datetime | None
    accepted_at: datetime | None

    @classmethod
    def from_api(cls, share: api.Share) -> Share:
        return cls(
            id=share.id,
            owner=share.owner,
            member=share.member,
            device_id=share.device_id or None,
            role=share.role,
            status=share.status,
            created_at=parse_time(share.created_at),
            accepted_at=parse_time(share.accepted_at),
        )


@dataclass(frozen=True)
class SetupCode:
    """A one-time set-up code for an installer; `code` only in the answer that created it."""

    id: str
    expires_at: datetime | None
    code: str = field(default="", repr=False)
    created_at: datetime | None = None

    @classmethod
    def from_api(cls, code: api.SetupCode | api.SetupCodeInfo) -> SetupCode:
        return cls(
            id=code.id,
            expires_at=parse_time(code.expires_at),
            code=code.code if isinstance(code, api.SetupCode) else "",
            created_at=parse_time(code.created_at) if isinstance(code, api.SetupCodeInfo) else None,
        )


@dataclass(frozen=True)
class Transfer:
    """A device handed over to another account (docs/sharing.md "Hand-over")."""

    id: str
    device_id: str
    from_user: str
    to_user: str
    history: str  # keep | clear
    status: str  # offered | moving | done | cancelled | failed
    reason: str | None
    created_at: datetime | None
    updated_at: datetime | None

    @property
    def open(self) -> bool:
        return self.status in ("offered", "moving")

    @classmethod
    def from_api(cls, transfer: api.Transfer) -> Transfer:
        return cls(
            id=transfer.id,
            device_id=transfer.device_id,
            from_user=transfer.from_,
            to_user=transfer.to,
            history=transfer.history,
            status=transfer.status,
            reason=transfer.reason or None,
            created_at=parse_time(transfer.created_at),
            updated_at=parse_time(transfer.updated_at),
        )


@dataclass(frozen=True)
class HistoryEvent:
    device_id: str
    type: str
    data: dict[str, Any]
    ts: datetime

    @classmethod
    def from_api(cls, event: api.HistoryEvent) -> HistoryEvent | None:
        ts = parse_time(event.ts)
        if ts is None:
            return None
        data = event.data if isinstance(event.data, dict) else {}
        return cls(device_id=event.device_id, type=event.type, data=data, ts=ts)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HistoryEvent | None:
        ts = parse_time(data.get("ts"))
        if ts is None:
            return None
        payload = data.get("data")
        return cls(
            device_id=str(data.get("deviceId", "")),
            type=str(data.get("type", "")),
            data=payload if isinstance(payload, dict) else {},
            ts=ts,
        )
