"""What an account may do with a device, and the life of a share (docs/sharing.md).

Every function works inside the caller's transaction; the routes commit, then publish a
`RightsChanged` event naming the accounts whose broker rights must follow.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from pooldesk.core import api_types as api
from pooldesk_contract.refusals import Reason
from pooldesk_server.audit.service import record
from pooldesk_server.db.models import BrokerJob, Device, Share, User
from pooldesk_server.db.types import utcnow
from pooldesk_server.http.errors import conflict, forbidden, not_found, validation_error
from pooldesk_server.sharing.queries import (
    RANK,
    REFRESH_RIGHTS,
    SHARE_ROLES,
    DeviceAccess,
    Role,
    ShareRow,
    device_access,
    member_names,
    share_rows,
)
from pooldesk_server.timefmt import iso

OWNER_ONLY: tuple[Role, ...] = ("owner",)
MEMBERS: tuple[Role, ...] = ("owner", "operator", "viewer")
CONTROLLERS: tuple[Role, ...] = ("owner", "operator")
ANYONE: tuple[Role, ...] = ("owner", "operator", "viewer", "installer")


def device_not_found(device_id: str) -> Exception:
    return not_found(f"Device {device_id} not found", reason=Reason.DEVICE_NOT_FOUND)


async def access(
    db: AsyncSession, user_id: str, device_id: str, roles: tuple[Role, ...] = MEMBERS
) -> DeviceAccess:
    """The caller's access to the device if its role is one of `roles`.

    No access at all (or an installer where installers may not go): 404 `Device D not
    found`, which does not tell whether it exists. A member where only the owner may act: 403.
    A viewer where operators may act: 403 naming the role."""
    found = await device_access(db, user_id, device_id, utcnow())
    if found is None or (found.role == "installer" and "installer" not in roles):
        raise device_not_found(device_id)
    if found.role not in roles:
        if "operator" in roles:
            raise forbidden(
                f"You can only view {device_id}: ask its owner for the operator role",
                reason=Reason.VIEWER_ONLY,
            )
        raise forbidden(f"Only the owner of {device_id} can do this", reason=Reason.OWNER_ONLY)
    return found


def share_json(row: ShareRow) -> api.Share:
    share = row.share
    return api.Share(
        id=share.id,
        owner=row.owner,
        member=row.member,
        device_id=row.device_id,
        role="operator" if share.role == "operator" else "viewer",
        status="active" if share.status == "active" else "pending",
        created_at=iso(share.created_at) or "",
        accepted_at=iso(share.accepted_at),
    )


def owe_rights_refresh(db: AsyncSession, usernames: list[str]) -> None:
    """In the change's own transaction: the broker layer must recompute these accounts'
    dashboard rights (a `broker_jobs` row each, run at once after the commit by the
    `RightsChanged` event, else retried by the reconcile loop), so a crash right after the
    commit cannot leave a member with rights they lost."""
    for name in usernames:
        db.add(BrokerJob.due_now(REFRESH_RIGHTS, name))


def check_role(value: str) -> str:
    if value not in SHARE_ROLES:
        raise validation_error("role must be operator or viewer")
    return value


def _audit(db: AsyncSession, event: str, row: ShareRow, client: str, **extra: Any) -> None:
    """One entry in the owner's log and one in the member's."""
    detail: dict[str, Any] = {"shareId": row.share.id, "owner": row.owner, "member": row.member}
    detail |= {"deviceId": row.device_id, "role": row.share.role, **extra}
    for user_id in (row.share.owner_id, row.share.member_id):
        record(db, event=event, outcome="success", user_id=user_id, client_address=client, **detail)


async def offer(
    db: AsyncSession,
    owner: User,
    username: str,
    role: str,
    device_id: str | None,
    client: str,
) -> ShareRow:
    """Invite `username` (pending until they accept). 400 / 404 / 409 per docs/sharing.md."""
    role = check_role(role)
    if username == owner.username:
        raise validation_error("You cannot share a device with yourself")
    # Locked (PostgreSQL; SQLite writers are serialised anyway): two offers racing to the same
    # member cannot both pass the 409 check below.
    member = await db.scalar(select(User).where(User.username == username).with_for_update())
    if member is None:
        raise not_found(f"No account named {username}", reason=Reason.NO_SUCH_ACCOUNT)
    device_pk = None
    if device_id is not None:
        device_pk = await db.scalar(
            select(Device.id).where(Device.device_id == device_id, Device.user_id == owner.id)
        )
        if device_pk is None:
            raise device_not_found(device_id)
    same_or_wider: ColumnElement[bool] = Share.device_pk.is_(None)
    if device_pk is not None:
        same_or_wider = or_(same_or_wider, Share.device_pk == device_pk)
    existing = await db.scalars(
        select(Share.role).where(
            Share.owner_id == owner.id, Share.member_id == member.id, same_or_wider
        )
    )
    if any(RANK[r] >= RANK[role] for r in existing):
        what = device_id or "all your devices"
        raise conflict(f"{username} already has access to {what}", reason=Reason.ALREADY_SHARED)
    share = Share(
        id=str(uuid.uuid4()),
        owner_id=owner.id,
        member_id=member.id,
        device_pk=device_pk,
        role=role,
        status="pending",
        created_at=utcnow(),
        accepted_at=None,
    )
    db.add(share)
    await db.flush()
    row = ShareRow(share, owner.username, member.username, device_id)
    _audit(db, "share_offered", row, client)
    return row


async def _row(db: AsyncSession, share_id: str, user_id: str) -> ShareRow:
    """The share if the caller is its owner or member; 404 otherwise."""
    rows = await share_rows(db, Share.id == share_id)
    if not rows or user_id not in (rows[0].share.owner_id, rows[0].share.member_id):
        raise not_found(f"No share {share_id} of yours", reason=Reason.SHARE_NOT_FOUND)
    return rows[0]


async def accept(db: AsyncSession, member_id: str, share_id: str, client: str) -> ShareRow:
    row = await _row(db, share_id, member_id)
    if row.share.member_id != member_id or row.share.status != "pending":
        raise not_found(f"No invitation {share_id} waiting for you", reason=Reason.SHARE_NOT_FOUND)
    row.share.status = "active"
    row.share.accepted_at = utcnow()
    _audit(db, "share_accepted", row, client)
    owe_rights_refresh(db, [row.member])
    return row


async def change_role(
    db: AsyncSession, owner_id: str, share_id: str, role: str, client: str
) -> ShareRow:
    role = check_role(role)
    row = await _row(db, share_id, owner_id)
    if row.share.owner_id != owner_id:
        raise forbidden("Only the owner of a share can change its role", reason=Reason.OWNER_ONLY)
    before = row.share.role
    row.share.role = role
    _audit(db, "share_role_changed", row, client, before=before)
    if row.share.status == "active":
        owe_rights_refresh(db, [row.member])
    return row


async def end(db: AsyncSession, user_id: str, share_id: str, client: str) -> ShareRow:
    """Either side ends the share (withdraw, revoke, decline, leave)."""
    row = await _row(db, share_id, user_id)
    side = "owner" if row.share.owner_id == user_id else "member"
    _audit(db, "share_ended", row, client, by=side)
    if row.share.status == "active":
        owe_rights_refresh(db, [row.member])
    await db.execute(delete(Share).where(Share.id == share_id))
    return row


async def listing(db: AsyncSession, user_id: str) -> api.Shares:
    given = await share_rows(db, Share.owner_id == user_id)
    received = await share_rows(db, Share.member_id == user_id)
    return api.Shares(
        given=[share_json(r) for r in given], received=[share_json(r) for r in received]
    )


async def delete_device_shares(db: AsyncSession, device: Device) -> list[str]:
    """Delete every share of this one device (in the caller's transaction; for a device that
    is removed or handed over). Returns the usernames whose dashboard rights change (members
    of those shares that were active): hand them to the broker layer's
    `refresh_dashboard_rights` after the commit (or publish `RightsChanged`); the refresh is also
    owed durably (`owe_rights_refresh`, same transaction). Shares on all of the owner's devices
    stay (they never name the device: its topics leave the owner's prefix with it)."""
    names = await member_names(db, Share.device_pk == device.id, Share.status == "active")
    await db.execute(delete(Share).where(Share.device_pk == device.id))
    owe_rights_refresh(db, names)
    return names


async def account_share_members(db: AsyncSession, user_id: str) -> list[str]:
    """Before an account is deleted (its shares go with it by cascade): the members whose
    dashboard rights named this owner (their refresh is owed in the same transaction)."""
    names = await member_names(db, Share.owner_id == user_id, Share.status == "active")
    owe_rights_refresh(db, names)
    return names
