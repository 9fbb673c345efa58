"""Tables. Every change here needs a migration in pooldesk_server/db/migrations/versions/."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pooldesk_server.db.types import BigId, UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    # Not unique: registration must not tell whether an email is in use (nothing looks users
    # up by email).
    email: Mapped[str] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set by the operator (`pooldesk-backend users disable`): no sign-in, no token, no API key.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Device(Base):
    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(10), unique=True)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    device_type: Mapped[str] = mapped_column(String(32), default="pool-controller")
    topic_prefix: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="offline")
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeviceApiKey(Base):
    """One API key per device; only its SHA-256 is stored."""

    __tablename__ = "device_api_keys"

    device_pk: Mapped[str] = mapped_column(
        String(36), ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ManifestDevice(Base):
    """A factory manifest line: a device that may only be claimed with its claim code."""

    __tablename__ = "manifest_devices"

    device_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    claim_code_hash: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Session(Base):
    """A signed-in session; also the refresh-token family."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    user_agent: Mapped[str] = mapped_column(String(256), default="")
    client_address: Mapped[str] = mapped_column(String(64), default="")


class RefreshToken(Base):
    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The token that replaced this one (set when it is spent): a retry within the grace window
    # gets that successor again, re-made from its row (no token is stored).
    successor_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_device_ts", "device_pk", "ts", "id"),
        # A device's last boot event (the device list's running firmware) without its history.
        Index("ix_events_device_type_ts", "device_pk", "type", "ts", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    device_pk: Mapped[str] = mapped_column(String(36), ForeignKey("devices.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    ts: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[str] = mapped_column(Text())


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_user_id_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=True
    )
    event: Mapped[str] = mapped_column(String(48))
    outcome: Mapped[str] = mapped_column(String(16))
    client_address: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(Text(), default="{}")


class RetiredUsername(Base):
    """A deleted account's username: never registered again, so nothing addressed to the old
    account (retained MQTT messages, topic rights, links) can reach a newcomer of the same name.
    """

    __tablename__ = "retired_usernames"

    username: Mapped[str] = mapped_column(String(32), primary_key=True)
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime())


class KnownAddress(Base):
    """An address (HMAC of user and address) that signed in to the account successfully: it
    gets through the account-wide sign-in lock, so a stranger's guesses cannot lock the owner
    out of the places they sign in from."""

    __tablename__ = "known_addresses"

    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_success_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LoginThrottle(Base):
    """Failed-login counters keyed by a hash of the account name or the client address."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer(), default=0)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class MqttLogin(Base):
    """MQTT logins the broker layer (pooldesk_server/broker/) issues and keeps in sync.

    The account services mark rows `pending_delete` when the session, device or account they
    belong to ends; the foreign keys are SET NULL so the row outlives them until the broker
    layer has removed the login from the broker.
    """

    __tablename__ = "mqtt_logins"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    session_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("sessions.id", ondelete="SET NULL"), nullable=True, index=True
    )
    device_id: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("devices.id", ondelete="SET NULL"), nullable=True, index=True
    )
    mqtt_user: Mapped[str] = mapped_column(String(128), unique=True)
    client_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    broker_state: Mapped[str] = mapped_column(String(16), default="synced", index=True)
    # The broker's own hash of the login's password (Mosquitto dynsec), kept by the broker layer
    # so `broker sync` can restore the login after the broker's store is lost. Never a password.
    password_hash: Mapped[str | None] = mapped_column(Text(), nullable=True)


class BrokerJob(Base):
    """Broker work owed after a change already committed (issue #17): clearing the retained
    messages under a removed device's or account's topics. Written before the work is tried, kept
    until it succeeds, retried with growing delays by the broker layer's reconcile loop, so a
    broker that is down (or a crash) delays the work without losing it or the HTTP answer."""

    __tablename__ = "broker_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer(), default=0)
    last_error: Mapped[str] = mapped_column(Text(), default="")

    @classmethod
    def due_now(cls, kind: str, target: str) -> BrokerJob:
        """A new job, to be tried at once."""
        now = utcnow()
        return cls(
            id=str(uuid.uuid4()),
            kind=kind,
            target=target,
            created_at=now,
            next_attempt_at=now,
            attempts=0,
            last_error="",
        )


class OperatorRequest(Base):
    """Work an operator command (`pooldesk-backend users disable`, `sessions revoke`) leaves
    for the running server(s): the command changes the database and adds a row here in one
    transaction; a server claims the row (`done_at`) and ends the MQTT logins it names at the
    broker at once (pooldesk_server/ops/requests.py). No foreign key: the row outlives the
    account."""

    __tablename__ = "operator_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    action: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(36))
    username: Mapped[str] = mapped_column(String(32))
    # JSON: {"sessionIds": [...], "mqttUsers": [...]}
    detail: Mapped[str] = mapped_column(Text(), default="{}")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)


class FirmwareRelease(Base):
    """A signed firmware bundle (pooldesk_firmware/tools/release.py), stored whole;
    docs/updates.md."""

    __tablename__ = "firmware_releases"

    version: Mapped[str] = mapped_column(String(32), primary_key=True)
    manifest: Mapped[str] = mapped_column(Text())
    signature: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer())
    bundle: Mapped[bytes] = mapped_column(LargeBinary())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FirmwareUpdate(Base):
    """One device's update to one release and how far it got (pooldesk_server/firmware/)."""

    __tablename__ = "firmware_updates"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_pk: Mapped[str] = mapped_column(
        String(36), ForeignKey("devices.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[str] = mapped_column(String(32))
    force: Mapped[bool] = mapped_column(Boolean(), default=False)
    started_by: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    progress: Mapped[int | None] = mapped_column(Integer(), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(256), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Transfer(Base):
    """A device handed over to another account (docs/sharing.md, "Hand-over");
    pooldesk_server/transfers/. `new_login` is the device login issued under the new owner's
    prefix once the new owner accepted (its row in `mqtt_logins` has kind `transfer` until the
    device confirmed it); `delivered_at` is when its binding went out on `P/binding/set`;
    `withdrawn_at` is when the broker acknowledged the withdrawal of a cancelled transfer's
    binding (the device can no longer take it: heard on its old prefix after that, it stayed)."""

    __tablename__ = "transfers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_pk: Mapped[str] = mapped_column(
        String(36), ForeignKey("devices.id", ondelete="CASCADE"), index=True
    )
    from_user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    to_user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    history: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    new_login: Mapped[str | None] = mapped_column(String(128), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Share(Base):
    """An owner's grant of a role on one device, or on all their devices (`device_pk` null),
    to another account (docs/sharing.md). Pending until the member accepts."""

    __tablename__ = "shares"
    __table_args__ = (Index("ix_shares_member_id_status", "member_id", "status"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[str] = mapped_column(String(36), ForeignKey("users.id", ondelete="CASCADE"))
    device_pk: Mapped[str | None] = mapped_column(
        String(36), ForeignKey("devices.id", ondelete="CASCADE"), nullable=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SetupCode(Base):
    """A one-time code an owner gives an installer (docs/sharing.md "Set-up codes"); only its
    SHA-256 is stored."""

    __tablename__ = "setup_codes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SetupGrant(Base):
    """An installer's short access to the device they just set up for its owner."""

    __tablename__ = "setup_grants"

    device_pk: Mapped[str] = mapped_column(
        String(36), ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    installer_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
