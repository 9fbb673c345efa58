"""Hand-over of a device to another account (docs/sharing.md, "Hand-over"): the database side.

offered --accept--> moving --device ok--> done
   |                  |----device failed--> failed
   +-----cancel-------+-------------------> cancelled

Nothing here talks to the broker; `complete` is the one transaction that moves the device, and
returns what the broker layer must do after the commit (a `DeviceMoved` event).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from pooldesk.core import api_types as api
from pooldesk_contract.refusals import Reason
from pooldesk_server.accounts.events import DeviceMoved
from pooldesk_server.audit.service import record
from pooldesk_server.db.models import Device, Event, MqttLogin, Transfer, User
from pooldesk_server.db.types import utcnow
from pooldesk_server.devices.ids import topic_prefix
from pooldesk_server.devices.service import ensure_room, mark_mqtt_logins_pending_delete
from pooldesk_server.http.errors import conflict, not_found, validation_error
from pooldesk_server.settings import Settings
from pooldesk_server.sharing.service import delete_device_shares
from pooldesk_server.timefmt import iso

OPEN = ("offered", "moving")
HISTORY = ("keep", "clear")
MAX_REASON = 64


@dataclass(frozen=True)
class Parties:
    transfer: Transfer
    device: Device
    old: User
    new: User

    @property
    def old_prefix(self) -> str:
        return topic_prefix(self.old.username, self.device.device_id)

    @property
    def new_prefix(self) -> str:
        return topic_prefix(self.new.username, self.device.device_id)


def transfer_json(p: Parties) -> api.Transfer:
    t = p.transfer
    return api.Transfer(
        id=t.id,
        device_id=p.device.device_id,
        from_=p.old.username,
        to=p.new.username,
        history=t.history,  # type: ignore[arg-type]  # offer admits only HISTORY
        status=t.status,  # type: ignore[arg-type]  # only this module sets it
        reason=t.reason,
        created_at=iso(t.created_at) or "",
        updated_at=iso(t.updated_at) or "",
    )


async def parties(db: AsyncSession, transfer: Transfer) -> Parties:
    device = await db.get(Device, transfer.device_pk)
    old = await db.get(User, transfer.from_user_id)
    new = await db.get(User, transfer.to_user_id)
    assert device is not None
    assert old is not None
    assert new is not None
    return Parties(transfer, device, old, new)


def _set(t: Transfer, status: str, reason: str | None = None) -> None:
    t.status = status
    t.reason = reason[:MAX_REASON] if reason else None
    t.updated_at = utcnow()


def _audit(db: AsyncSession, p: Parties, event: str, address: str = "", **detail: Any) -> None:
    for user in (p.old, p.new):
        record(
            db,
            event=event,
            outcome="failure" if event == "transfer_failed" else "success",
            user_id=user.id,
            client_address=address,
            transferId=p.transfer.id,
            deviceId=p.device.device_id,
            to=p.new.username,
            **{"from": p.old.username},
            **detail,
        )


async def offer(
    db: AsyncSession, owner: User, device: Device, username: str, history: str, address: str
) -> Parties:
    """A new transfer of the owner's device to the account `username` (status `offered`)."""
    if history not in HISTORY:
        raise validation_error('history must be "keep" or "clear"')
    to = await db.scalar(select(User).where(User.username == username.strip().lower()))
    if to is None or to.disabled_at is not None:
        raise not_found(f"No account named {username}", reason=Reason.NO_SUCH_ACCOUNT)
    if to.id == owner.id:
        raise validation_error("This device is already yours: name another account")
    busy = await db.scalar(
        select(Transfer.id).where(Transfer.device_pk == device.id, Transfer.status.in_(OPEN))
    )
    if busy is not None:
        raise conflict(
            f"Device {device.device_id} already has an open transfer; cancel it first",
            reason=Reason.TRANSFER_OPEN,
        )
    now = utcnow()
    t = Transfer(
        id=uuid.uuid4().hex,
        device_pk=device.id,
        from_user_id=owner.id,
        to_user_id=to.id,
        history=history,
        status="offered",
        reason=None,
        created_at=now,
        updated_at=now,
    )
    db.add(t)
    p = Parties(t, device, owner, to)
    _audit(db, p, "transfer_offered", address, history=history)
    return p


async def listing(db: AsyncSession, user_id: str) -> tuple[list[Parties], list[Parties]]:
    rows = await db.scalars(
        select(Transfer)
        .where(or_(Transfer.from_user_id == user_id, Transfer.to_user_id == user_id))
        .order_by(Transfer.created_at.desc(), Transfer.id)
    )
    outgoing: list[Parties] = []
    incoming: list[Parties] = []
    for t in rows.all():
        p = await parties(db, t)
        (outgoing if t.from_user_id == user_id else incoming).append(p)
    return outgoing, incoming


async def party_transfer(db: AsyncSession, transfer_id: str, user_id: str) -> Parties:
    """The transfer if the user gives or receives it; 404 otherwise (no hint it exists)."""
    t = await db.get(Transfer, transfer_id[:64])
    if t is None or user_id not in (t.from_user_id, t.to_user_id):
        raise not_found(f"Transfer {transfer_id} not found", reason=Reason.TRANSFER_NOT_FOUND)
    return await parties(db, t)


async def accept(
    db: AsyncSession, p: Parties, user: User, settings: Settings, address: str
) -> None:
    """The new owner accepts: `moving` (reason `device_offline` while the device is not online;
    its new binding waits for it, retained)."""
    t = p.transfer
    if t.to_user_id != user.id or t.status != "offered":
        raise not_found(
            f"Transfer {t.id} is not waiting for you to accept it", reason=Reason.TRANSFER_NOT_FOUND
        )
    await ensure_room(db, user.id, settings)
    _set(t, "moving", None if p.device.status == "online" else "device_offline")
    _audit(db, p, "transfer_accepted", address)


async def cancel(db: AsyncSession, p: Parties, user: User, address: str) -> None:
    """Either side ends an open transfer. A login issued for it stays: its binding may be on the
    broker even when no delivery was acknowledged (an acknowledgement that came late), so the
    mover withdraws it first, and the login goes once the device answers `failed` or is heard
    on its old prefix after the withdrawal (`retire_if_stayed`); its `ok` moves it after all
    (`complete`): deleting a login under a device that just stored it would lock the device out."""
    t = p.transfer
    if t.status not in OPEN:
        raise conflict(f"Transfer {t.id} is already {t.status}", reason=Reason.TRANSFER_SETTLED)
    _set(t, "cancelled", "cancelled_by_" + ("owner" if user.id == t.from_user_id else "recipient"))
    _audit(db, p, "transfer_cancelled", address, by=user.username)


async def retire_if_stayed(db: AsyncSession, t: Transfer) -> tuple[str, ...]:
    """A cancelled transfer's logins go once the device spoke on its old prefix after the broker
    acknowledged the withdrawal of the binding (so it kept its old login). Heard after the cancel
    but before the withdrawal is no proof: it may have connected, spoken and then taken the
    binding still retained."""
    device = await db.get(Device, t.device_pk)
    if t.withdrawn_at is None or device is None or device.last_seen is None:
        return ()  # (still to be withdrawn first)
    if device.last_seen <= t.withdrawn_at:
        return ()
    return await retire_new_login(db, t)


def _logins_of(t: Transfer) -> tuple[Any, ...]:
    """The conditions selecting every device login issued for this transfer: issued under its
    recipient for its device since it was offered and before the device's next transfer was
    (one open transfer per device, and logins are issued only while it is `moving`, so an
    earlier transfer's are older and a later one's newer: a cancelled transfer's clean-up must
    not reach the logins of the next offer to the same person)."""
    later = aliased(Transfer)
    next_offer = (
        select(func.min(later.created_at))
        .where(later.device_pk == t.device_pk, later.created_at > t.created_at)
        .scalar_subquery()
    )
    return (
        MqttLogin.kind == "transfer",
        MqttLogin.device_id == t.device_pk,
        MqttLogin.user_id == t.to_user_id,
        MqttLogin.created_at >= t.created_at,
        or_(next_offer.is_(None), MqttLogin.created_at < next_offer),
    )


async def live_logins(db: AsyncSession, t: Transfer) -> list[str]:
    """This transfer's logins not (yet) marked for deletion, oldest first."""
    rows = await db.scalars(
        select(MqttLogin.mqtt_user)
        .where(*_logins_of(t), MqttLogin.broker_state != "pending_delete")
        .order_by(MqttLogin.created_at, MqttLogin.mqtt_user)
    )
    return list(rows.all())


async def retire_new_login(db: AsyncSession, t: Transfer) -> tuple[str, ...]:
    """Every login issued for the transfer goes (the device took none of them)."""
    names = await mark_mqtt_logins_pending_delete(
        db, *_logins_of(t), MqttLogin.broker_state != "pending_delete"
    )
    t.new_login = None
    t.delivered_at = None
    return names


async def retire_logins(db: AsyncSession, t: Transfer, names: list[str]) -> tuple[str, ...]:
    """Some of the transfer's logins go (older ones beyond the limit the mover keeps)."""
    return await mark_mqtt_logins_pending_delete(db, *_logins_of(t), MqttLogin.mqtt_user.in_(names))


async def fail(db: AsyncSession, p: Parties, reason: str) -> tuple[str, ...]:
    """The device refused its new binding and kept the old one."""
    _set(p.transfer, "failed", reason)
    _audit(db, p, "transfer_failed", reason=p.transfer.reason)
    return await retire_new_login(db, p.transfer)


async def end_shares(db: AsyncSession, device: Device) -> list[str]:
    """Every share of the device ends with the hand-over (docs/sharing.md); returns the members
    whose dashboard rights must be refreshed after commit."""
    return await delete_device_shares(db, device)


async def complete(db: AsyncSession, p: Parties, taken: str) -> tuple[DeviceMoved, list[str]]:
    """The device confirmed its new binding with login `taken` (one of `live_logins`): in this
    one transaction it moves to the new owner (new topic prefix), keeps or loses its history,
    loses its shares and its old logins, and the transfer's other logins go (bindings the device
    did not take); the transfer is `done`. Returns the event for the broker layer (old logins,
    old prefix) and the members whose shares ended."""
    t, device = p.transfer, p.device
    old_logins = await mark_mqtt_logins_pending_delete(
        db, MqttLogin.device_id == device.id, MqttLogin.kind == "device"
    )
    await mark_mqtt_logins_pending_delete(db, *_logins_of(t), MqttLogin.mqtt_user != taken)
    await db.execute(
        update(MqttLogin).where(*_logins_of(t), MqttLogin.mqtt_user == taken).values(kind="device")
    )
    t.new_login = taken
    members = await end_shares(db, device)
    if t.history == "clear":
        await db.execute(delete(Event).where(Event.device_pk == device.id))
    device.user_id = p.new.id
    device.topic_prefix = p.new_prefix
    # Heard from just now (its answer): deleting its old login must not mark it offline.
    device.status = "online"
    device.last_seen = utcnow()
    # Cancelled after the device had already switched: it moved all the same (see `cancel`).
    _set(t, "done", "moved_before_cancel" if t.status == "cancelled" else None)
    _audit(db, p, "transfer_done", history=t.history)
    return DeviceMoved(p.old.id, p.old.username, device.device_id, old_logins), members
