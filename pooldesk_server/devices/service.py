"""Device ownership: claiming (with the manifest's claim code), listing, renaming, unbinding,
and the per-device API key."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy import bindparam, delete, func, literal_column, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from pooldesk.core import api_types as api
from pooldesk_contract.refusals import Reason
from pooldesk_server.accounts import throttle
from pooldesk_server.db.engine import Database, Prepared
from pooldesk_server.db.models import Device, DeviceApiKey, ManifestDevice, MqttLogin, User
from pooldesk_server.db.types import utcnow
from pooldesk_server.devices.ids import normalize_claim_code, topic_prefix
from pooldesk_server.firmware import service as firmware
from pooldesk_server.http.errors import ApiError, conflict, forbidden, validation_error
from pooldesk_server.security.secrets_hashing import digest, new_api_key, same_digest
from pooldesk_server.settings import Settings
from pooldesk_server.sharing import queries as sharing_queries
from pooldesk_server.sharing import service as sharing
from pooldesk_server.timefmt import iso

MAX_NAME = 64


def check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise validation_error(
            f"name must be 1-{MAX_NAME} printable characters (no line breaks or tabs)"
        )
    return name


def device_json(device: Any, owner: str | None = None, role: str | None = None) -> api.Device:
    """A Device, or a row of its columns (`listed_devices`); with `owner`/`role` where own and
    shared devices meet (docs/sharing.md)."""
    return api.Device(
        owner=msgspec.UNSET if owner is None else owner,
        role=msgspec.UNSET if role is None else api.device_role(role),
        device_id=device.device_id,
        name=device.name,
        type=device.device_type,
        topic_prefix=device.topic_prefix,
        status=device.status,
        last_seen=iso(device.last_seen),
        created_at=iso(device.created_at) or "",
    )


def listed_device(
    device: Any, firmware: api.Firmware, owner: str | None = None, role: str | None = None
) -> api.ListedDevice:
    """`device_json` with the device's firmware, as GET /api/devices lists it."""
    fields = msgspec.structs.asdict(device_json(device, owner, role))
    return api.ListedDevice(**fields, firmware=firmware)


WRONG_CLAIM_CODE = Reason.WRONG_CLAIM_CODE  # the error body's reason and the audit entry's


async def claim_refusal(
    db: AsyncSession,
    device_id: str,
    claim_code: str | None,
    *,
    user_id: str | None,
    settings: Settings,
) -> ApiError | None:
    """Check, inside the caller's write transaction, that this device may be claimed with this
    claim code.

    Raises when no code is tried (device not in a required manifest, no code given) and 429
    while the user or the device is locked out. A claim code check counts as an attempt against
    the user and the device first; a wrong code is returned, not raised, so the caller commits
    that count (with its audit entry) and then raises it. A right code is forgiven.
    """
    listed = await db.get(ManifestDevice, device_id)
    if listed is None:
        if settings.require_device_manifest:
            raise forbidden(
                f"Device {device_id} is not in the factory manifest; check the id on the "
                "device label, or ask the operator to import the manifest",
                reason=Reason.NOT_IN_MANIFEST,
            )
        return None
    if not claim_code:
        raise validation_error(
            f"claimCode is required for device {device_id}: it is printed on the device label"
        )
    limits = throttle.claim_limits(user_id, device_id, settings)
    attempt = await throttle.count_attempt(db, limits, settings)
    if not same_digest(digest(normalize_claim_code(claim_code)), listed.claim_code_hash):
        return forbidden(f"Claim code does not match device {device_id}", reason=WRONG_CLAIM_CODE)
    # The device key goes: once claimed, earlier wrong guesses on it no longer matter.
    await throttle.forgive(db, attempt, clear=(limits[-1].key,))
    return None


async def ensure_unowned(db: AsyncSession, device_id: str, user_id: str | None) -> None:
    owner = await db.scalar(select(Device.user_id).where(Device.device_id == device_id))
    if owner is None:
        return
    if owner == user_id:
        raise conflict(
            f"Device {device_id} is already on your account", reason=Reason.DEVICE_ON_YOUR_ACCOUNT
        )
    raise registered_elsewhere(device_id)


def registered_elsewhere(device_id: str) -> ApiError:
    """409: the device is another account's; only its owner can let it go."""
    return conflict(
        f"Device {device_id} is already registered to another account",
        reason=Reason.DEVICE_REGISTERED_ELSEWHERE,
    )


async def ensure_room(db: AsyncSession, user_id: str, settings: Settings) -> None:
    """409 when the account already has the most devices it may have."""
    count = await db.scalar(
        select(func.count()).select_from(Device).where(Device.user_id == user_id)
    )
    if (count or 0) >= settings.max_devices_per_user:
        raise conflict(
            f"This account already has {count} devices, the most it may have; remove one "
            "before adding another",
            reason=Reason.DEVICE_LIMIT,
        )


def new_device(user: User, device_id: str, name: str | None) -> Device:
    return Device(
        id=str(uuid.uuid4()),
        device_id=device_id,
        user_id=user.id,
        name=name or device_id,
        device_type="pool-controller",
        topic_prefix=topic_prefix(user.username, device_id),
        status="offline",
        last_seen=None,
        created_at=utcnow(),
    )


async def devices_of(db: AsyncSession, user_id: str) -> list[Device]:
    query = (
        select(Device)
        .where(Device.user_id == user_id)
        .order_by(Device.created_at, Device.device_id)
    )
    return list((await db.scalars(query)).all())


_DEVICE_COLUMNS = (
    Device.id,
    Device.device_id,
    Device.name,
    Device.device_type,
    Device.topic_prefix,
    Device.status,
    Device.last_seen,
    Device.created_at,
)
_FIRST_DEVICE_ID = Prepared(
    select(Device.device_id)
    .where(Device.user_id == bindparam("uid"))
    .order_by(Device.created_at, Device.device_id)
    .limit(1)
)
# GET /api/devices in one query: own devices (shared = 0), then the devices shared with the
# user (shared = 1), each with its firmware columns (firmware.with_firmware).
_OWN_ROWS = (
    select(*_DEVICE_COLUMNS, User.username.label("owner"), literal_column("'owner'").label("role"))
    .join(User, User.id == Device.user_id)
    .where(Device.user_id == bindparam("uid"))
    .add_columns(literal_column("0").label("shared"))
)
_SHARED_ROWS = sharing_queries.shared_devices(*_DEVICE_COLUMNS).add_columns(
    literal_column("1").label("shared")
)
_LISTED = union_all(
    firmware.with_firmware(_OWN_ROWS), firmware.with_firmware(_SHARED_ROWS)
).subquery("listed")
_LISTED_ROWS = Prepared(
    select(_LISTED).order_by(_LISTED.c.shared, _LISTED.c.created_at, _LISTED.c.device_id)
)


async def listed_devices(db: Database, user_id: str) -> list[api.ListedDevice]:
    """GET /api/devices: the user's own devices, then those shared with them (widest role per
    device), with their firmware and the stored releases: one query, no ORM objects."""
    rows = await db.fetch(_LISTED_ROWS, {"uid": user_id})
    if not rows:
        return []
    latest = firmware.newest_listed(rows[0])
    own = [row for row in rows if not row.shared]
    roles: dict[str, str] = {}  # a shared device's widest role, in the order first met
    shared: dict[str, Any] = {}
    for row in rows:
        if row.shared:
            roles[row.id] = sharing_queries.widest(row.role, roles.get(row.id))
            shared.setdefault(row.id, row)
    return [
        listed_device(row, firmware.listed_firmware(row, latest), row.owner, "owner") for row in own
    ] + [
        listed_device(row, firmware.listed_firmware(row, latest), row.owner, roles[pk])
        for pk, row in shared.items()
    ]


async def first_device_id_fast(db: Database, user_id: str) -> str | None:
    rows = await db.fetch(_FIRST_DEVICE_ID, {"uid": user_id})
    return rows[0].device_id if rows else None


async def owned_device(db: AsyncSession, user_id: str, device_id: str) -> Device:
    """The user's own device for an owner-only action: 404 `Device D not found` without access
    (other people's devices: their existence is not the caller's business), 403 for an account
    the device is shared with (docs/sharing.md)."""
    found = await sharing.access(db, user_id, device_id, sharing.OWNER_ONLY)
    return found.device


async def mark_mqtt_logins_pending_delete(db: AsyncSession, *conditions: Any) -> tuple[str, ...]:
    """Flag MQTT logins for removal from the broker; returns their names, sorted."""
    query = select(MqttLogin.mqtt_user).where(*conditions).order_by(MqttLogin.mqtt_user)
    names = tuple((await db.scalars(query)).all())
    if names:
        await db.execute(update(MqttLogin).where(*conditions).values(broker_state="pending_delete"))
    return names


async def unbind(db: AsyncSession, device: Device) -> tuple[str, ...]:
    mqtt_users = await mark_mqtt_logins_pending_delete(db, MqttLogin.device_id == device.id)
    await db.execute(delete(Device).where(Device.id == device.id))
    return mqtt_users


async def issue_api_key(db: AsyncSession, device: Device) -> str:
    """A new API key for the device (the old one stops working). Shown once, stored hashed."""
    key = new_api_key()
    await db.execute(delete(DeviceApiKey).where(DeviceApiKey.device_pk == device.id))
    db.add(DeviceApiKey(device_pk=device.id, key_hash=digest(key), created_at=utcnow()))
    return key


async def credential_metadata(db: AsyncSession, user_id: str) -> dict[str, list[dict[str, Any]]]:
    """What the account export says about the user's MQTT logins and device API keys: names,
    kinds and dates, never a password, a hash or a key."""
    logins = (
        await db.execute(
            select(MqttLogin, Device.device_id)
            .outerjoin(Device, Device.id == MqttLogin.device_id)
            .where(MqttLogin.user_id == user_id)
            .order_by(MqttLogin.created_at, MqttLogin.mqtt_user)
        )
    ).all()
    keys = (
        await db.execute(
            select(Device.device_id, DeviceApiKey.created_at)
            .join(DeviceApiKey, DeviceApiKey.device_pk == Device.id)
            .where(Device.user_id == user_id)
            .order_by(Device.device_id)
        )
    ).all()
    return {
        "mqttLogins": [
            {
                "mqttUser": login.mqtt_user,
                "clientId": login.client_id,
                "kind": login.kind,
                "deviceId": device_id,
                "sessionId": login.session_id,
                "createdAt": iso(login.created_at),
                "state": login.broker_state,
            }
            for login, device_id in logins
        ],
        "apiKeys": [
            {"deviceId": device_id, "createdAt": iso(created)} for device_id, created in keys
        ],
    }
