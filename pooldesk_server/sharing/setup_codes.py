"""Installer set-up without the owner's password (docs/sharing.md "Set-up codes").

The owner makes a one-time code; an installer signed in to their own account adds the device
with the claim code plus that code: the device is the owner's, the code is spent in the same
transaction, and the installer holds a short set-up grant (device credentials and reading the
device) that ends when they say so or at its expiry.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from pooldesk.core import api_types as api
from pooldesk_contract.refusals import Reason
from pooldesk_server.accounts import throttle
from pooldesk_server.accounts.throttle import Limit
from pooldesk_server.audit.service import record
from pooldesk_server.db.models import Device, SetupCode, SetupGrant, User
from pooldesk_server.db.types import utcnow
from pooldesk_server.devices import service as devices
from pooldesk_server.http.errors import ApiError, conflict, forbidden, not_found
from pooldesk_server.security.secrets_hashing import digest
from pooldesk_server.settings import Settings
from pooldesk_server.timefmt import iso

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
LENGTH = 12  # 60 bits
LIFETIME = timedelta(minutes=15)
GRANT = timedelta(minutes=30)
MAX_LIVE = 5
QR_PREFIX = "POOLDESK-SETUP:"
WRONG_SETUP_CODE = Reason.WRONG_SETUP_CODE  # the error body's reason and the audit entry's
WRONG_CODE = "That set-up code is wrong or has expired; ask the owner for a new one"


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def normalize(text: str) -> str:
    """As people type or scan it: any case, dashes or spaces, O for 0, I or L for 1."""
    text = text.strip().upper()
    if text.startswith(QR_PREFIX):
        text = text[len(QR_PREFIX) :]
    text = "".join(ch for ch in text if ch not in " -\t")
    return text.translate(str.maketrans("OIL", "011"))


def _live(user_id: str) -> tuple[Any, ...]:
    return (SetupCode.user_id == user_id, SetupCode.expires_at > utcnow())


async def create(db: AsyncSession, owner: User, client: str) -> api.SetupCode:
    """A new code (shown once), or 409 past `MAX_LIVE` live ones."""
    live = await db.scalar(select(func.count()).select_from(SetupCode).where(*_live(owner.id)))
    if (live or 0) >= MAX_LIVE:
        raise conflict(
            f"You already have {MAX_LIVE} set-up codes waiting; delete one or let it expire",
            reason=Reason.SETUP_CODE_LIMIT,
        )
    code, now = new_code(), utcnow()
    row = SetupCode(
        id=str(uuid.uuid4()),
        user_id=owner.id,
        code_hash=digest(normalize(code)),
        created_at=now,
        expires_at=now + LIFETIME,
    )
    db.add(row)
    record(
        db, event="setup_code_create", outcome="success", user_id=owner.id, client_address=client
    )
    return api.SetupCode(id=row.id, code=code, expires_at=iso(row.expires_at) or "")


async def listing(db: AsyncSession, user_id: str) -> list[api.SetupCodeInfo]:
    query = select(SetupCode).where(*_live(user_id)).order_by(SetupCode.created_at)
    return [
        api.SetupCodeInfo(
            id=r.id, expires_at=iso(r.expires_at) or "", created_at=iso(r.created_at) or ""
        )
        for r in await db.scalars(query)
    ]


async def remove(db: AsyncSession, user_id: str, code_id: str) -> None:
    done = await db.execute(
        delete(SetupCode).where(SetupCode.id == code_id, SetupCode.user_id == user_id)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise not_found(f"No set-up code {code_id} of yours", reason=Reason.SETUP_CODE_NOT_FOUND)


@dataclass(frozen=True)
class InstallerAdd:
    device: Device | None
    owner: str
    refusal: ApiError | None  # committed with its counted attempt, raised by the caller


def _refused(
    db: AsyncSession, installer: User, device_id: str, client: str, reason: str, error: ApiError
) -> InstallerAdd:
    """A failed add, in the installer's log (committed with the counted attempt)."""
    record(
        db,
        event="device_add",
        outcome="failure",
        user_id=installer.id,
        client_address=client,
        deviceId=device_id,
        reason=reason,
    )
    return InstallerAdd(None, "", error)


async def add_device(
    db: AsyncSession,
    installer: User,
    device_id: str,
    name: str | None,
    claim_code: str | None,
    setup_code: str,
    settings: Settings,
    client: str,
) -> InstallerAdd:
    """Register the device to the code's owner (their limits apply) and grant the installer
    `GRANT` of set-up access. A wrong or spent code counts against the installer like a wrong
    claim code and is returned (to commit the count), not raised."""
    key = throttle.hashed_key("setup-user", installer.id)
    limits = (Limit(key, settings.claim_free_attempts_user),)
    attempt = await throttle.count_attempt(db, limits, settings)
    found = await db.scalar(
        select(SetupCode).where(
            SetupCode.code_hash == digest(normalize(setup_code)), SetupCode.expires_at > utcnow()
        )
    )
    if found is None:
        wrong = forbidden(WRONG_CODE, reason=WRONG_SETUP_CODE)
        return _refused(db, installer, device_id, client, WRONG_SETUP_CODE, wrong)
    owner = await db.get(User, found.user_id)
    assert owner is not None  # the code goes with its account
    if owner.id == installer.id:
        raise forbidden(
            "This set-up code is your own: add the device without it", reason=Reason.OWN_SETUP_CODE
        )
    await throttle.forgive(db, attempt)
    await throttle.count_attempt(
        db,
        throttle.device_add_limits(owner.id, settings),
        settings,
        what="devices added in a short time",
        reason=Reason.TOO_MANY_REQUESTS,
    )
    refusal = await devices.claim_refusal(
        db, device_id, claim_code, user_id=installer.id, settings=settings
    )
    if refusal is not None:
        return _refused(db, installer, device_id, client, devices.WRONG_CLAIM_CODE, refusal)
    await devices.ensure_unowned(db, device_id, owner.id)
    await devices.ensure_room(db, owner.id, settings)
    device = devices.new_device(owner, device_id, name)
    db.add(device)
    spent = await db.execute(delete(SetupCode).where(SetupCode.id == found.id))
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        # Another add spent it first (PostgreSQL lets both read it): single use, so this one
        # is undone whole.
        raise forbidden(WRONG_CODE, reason=WRONG_SETUP_CODE)
    await db.flush()
    db.add(SetupGrant(device_pk=device.id, installer_id=installer.id, expires_at=utcnow() + GRANT))
    for event in ("device_add", "device_set_up_by"):
        record(
            db,
            event=event,
            outcome="success",
            user_id=owner.id,
            client_address=client,
            deviceId=device_id,
            installer=installer.username,
        )
    return InstallerAdd(device, owner.username, None)


async def end_grant(db: AsyncSession, installer_id: str, device_id: str) -> None:
    pk = await db.scalar(select(Device.id).where(Device.device_id == device_id))
    done = await db.execute(
        delete(SetupGrant).where(
            SetupGrant.device_pk == pk, SetupGrant.installer_id == installer_id
        )
    )
    if pk is None or done.rowcount != 1:  # type: ignore[attr-defined]
        raise not_found(f"Device {device_id} not found", reason=Reason.DEVICE_NOT_FOUND)
