"""Database reads of the sharing domain: who may reach which device, and in which role.

Pure queries (no HTTP, no errors): `service.py` decides what a request may do with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from pooldesk_server.broker.rights import SharedDevice
from pooldesk_server.db.models import Device, SetupGrant, Share, User

Role = Literal["owner", "operator", "viewer", "installer"]
SHARE_ROLES = ("operator", "viewer")
RANK = {"viewer": 1, "operator": 2}
# A `broker_jobs` kind: the named account's dashboard logins must get their rights recomputed.
REFRESH_RIGHTS = "refresh_rights"


def share_role(value: str) -> Literal["operator", "viewer"]:
    return "operator" if value == "operator" else "viewer"


@dataclass(frozen=True)
class DeviceAccess:
    device: Device
    owner: str  # the owner's username
    role: Role


@dataclass(frozen=True)
class ShareRow:
    share: Share
    owner: str
    member: str
    device_id: str | None


def covers() -> ColumnElement[bool]:
    """SQL: the share is on this device, or on all of its owner's devices."""
    return and_(
        Share.owner_id == Device.user_id,
        or_(Share.device_pk == Device.id, Share.device_pk.is_(None)),
    )


async def device_access(
    db: AsyncSession, user_id: str, device_id: str, now: datetime
) -> DeviceAccess | None:
    """The caller's widest access to the device: owner, an active share, or an installer's
    unexpired set-up grant; None when they have none (or the device does not exist)."""
    row = (
        await db.execute(
            select(Device, User.username)
            .join(User, User.id == Device.user_id)
            .where(Device.device_id == device_id)
        )
    ).first()
    if row is None:
        return None
    device, owner = row
    if device.user_id == user_id:
        return DeviceAccess(device, owner, "owner")
    roles = list(
        await db.scalars(
            select(Share.role).where(
                Share.member_id == user_id,
                Share.status == "active",
                Share.owner_id == device.user_id,
                or_(Share.device_pk == device.id, Share.device_pk.is_(None)),
            )
        )
    )
    if roles:
        return DeviceAccess(device, owner, share_role(max(roles, key=RANK.__getitem__)))
    grant = await db.scalar(
        select(SetupGrant.expires_at).where(
            SetupGrant.device_pk == device.id,
            SetupGrant.installer_id == user_id,
            SetupGrant.expires_at > now,
        )
    )
    if grant is not None:
        return DeviceAccess(device, owner, "installer")
    return None


def shared_devices(*columns: Any) -> Select[Any]:
    """The `columns` (of Device, and `owner`: its owner's username, `role`: the share's role) of
    every device other accounts shared with the member `:uid` (active shares); a device covered
    by several shares comes once per share (`widest` picks its role)."""
    return (
        select(*columns, User.username.label("owner"), Share.role.label("role"))
        .join(Share, covers())
        .join(User, User.id == Device.user_id)
        .where(Share.member_id == bindparam("uid"), Share.status == "active")
    )


def widest(role: str, known: str | None) -> Literal["operator", "viewer"]:
    """The wider of a share's role and the one already found for the same device."""
    if known is not None and RANK[known] >= RANK[role]:
        return share_role(known)
    return share_role(role)


async def share_rows(db: AsyncSession, *conditions: ColumnElement[bool]) -> list[ShareRow]:
    owner, member = aliased(User), aliased(User)
    rows = (
        await db.execute(
            select(Share, owner.username, member.username, Device.device_id)
            .join(owner, owner.id == Share.owner_id)
            .join(member, member.id == Share.member_id)
            .outerjoin(Device, Device.id == Share.device_pk)
            .where(*conditions)
            .order_by(Share.created_at, Share.id)
        )
    ).all()
    return [ShareRow(s, o, m, d) for s, o, m, d in rows]


async def active_grants(db: AsyncSession, member_id: str) -> list[SharedDevice]:
    """The member's active shares, as their dashboard login's rights need them."""
    rows = await share_rows(db, Share.member_id == member_id, Share.status == "active")
    return [SharedDevice(r.owner, r.device_id, share_role(r.share.role)) for r in rows]


async def member_names(db: AsyncSession, *conditions: ColumnElement[bool]) -> list[str]:
    """Usernames of the members of the shares matching `conditions` (sorted, distinct)."""
    query = (
        select(User.username)
        .join(Share, Share.member_id == User.id)
        .where(*conditions)
        .distinct()
        .order_by(User.username)
    )
    return list(await db.scalars(query))
