"""`pooldesk-backend firmware ...`: the operator's commands (docs/updates.md).

    firmware add BUNDLE...                   store releases signed with POOLDESK_OTA_PUBLIC_KEY
    firmware list                            the stored releases
    firmware update (--device ID | --user NAME) [--version V] [--force]
    firmware status [--device ID]            each device's last update

`update` only queues the update: the running server (`pooldesk-backend serve`) offers it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pooldesk_server.audit.service import record
from pooldesk_server.db.models import Device, User
from pooldesk_server.devices.ids import normalize_device_id
from pooldesk_server.firmware import service


class FirmwareCommandError(Exception):
    pass


def add_parser(commands: Any, data_dir_option: Any) -> None:
    fw = commands.add_parser("firmware", help="firmware releases and over-the-air updates")
    sub = fw.add_subparsers(dest="firmware_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="store a signed release bundle (pooldesk-release build)")
    add.add_argument("bundles", type=Path, nargs="+", metavar="BUNDLE")
    data_dir_option(add)
    data_dir_option(sub.add_parser("list", help="the stored releases"))
    upd = sub.add_parser("update", help="start an update of one device or of a user's devices")
    who = upd.add_mutually_exclusive_group(required=True)
    who.add_argument("--device", metavar="ID")
    who.add_argument("--user", metavar="USERNAME")
    upd.add_argument("--version", help="the release (default: the newest stored)")
    upd.add_argument("--force", action="store_true", help="allow a downgrade")
    data_dir_option(upd)
    status = sub.add_parser("status", help="each device's last update")
    status.add_argument("--device", metavar="ID")
    data_dir_option(status)


async def run(database: Any, settings: Any, args: argparse.Namespace) -> list[str]:
    """-> the lines to print. FirmwareCommandError for what the operator must fix."""
    cmd = args.firmware_command
    try:
        if cmd == "add":
            out = []
            for path in args.bundles:  # each in its own transaction: a bad one stores nothing
                try:
                    data = path.read_bytes()
                except OSError as e:
                    raise FirmwareCommandError(f"cannot read {path}: {e}") from None
                async with database.write() as db:
                    release = await service.add_release(db, data, settings.ota_public_key)
                    record(
                        db,
                        event="firmware_add",
                        outcome="success",
                        user_id=None,
                        version=release.version,
                        size=release.size,
                    )
                out.append(
                    f"stored firmware {release.version} ({release.size} bytes, signature ok)"
                )
            return out
        if cmd == "list":
            async with database.read() as db:
                rows = await service.releases(db)
            return [
                f"{r.version}\t{r.size} bytes\t{r.created_at:%Y-%m-%d %H:%M}" for r in rows
            ] or ["no releases stored"]
        if cmd == "update":
            return await _update(database, args)
        if cmd == "status":
            return await _status(database, args.device)
    except service.FirmwareError as e:
        raise FirmwareCommandError(str(e)) from None
    raise FirmwareCommandError(f"unknown action {cmd}")


async def _devices(db: Any, device: str | None, user: str | None) -> list[Device]:
    if device is not None:
        device_id = normalize_device_id(device)
        found = await db.scalar(select(Device).where(Device.device_id == device_id))
        if found is None:
            raise FirmwareCommandError(f"no device {device} is registered")
        return [found]
    owner = await db.scalar(select(User).where(User.username == user))
    if owner is None:
        raise FirmwareCommandError(f"no user {user}")
    rows = await db.scalars(select(Device).where(Device.user_id == owner.id))
    found_all = list(rows.all())
    if not found_all:
        raise FirmwareCommandError(f"{user} has no devices")
    return found_all


async def _update(database: Any, args: argparse.Namespace) -> list[str]:
    lines = []
    async with database.write() as db:
        for device in await _devices(db, args.device, args.user):
            update = await service.start_update(
                db, device, args.version, force=args.force, by="operator"
            )
            record(
                db,
                event="firmware_update",
                outcome="success",
                user_id=device.user_id,
                deviceId=device.device_id,
                version=update.version,
                state="requested",
                by="operator",
                force=args.force,
            )
            lines.append(f"{device.device_id}: update to {update.version} queued ({update.id})")
    lines.append("the running server offers it to the unit; follow it with `firmware status`")
    return lines


async def _status(database: Any, device: str | None) -> list[str]:
    lines = []
    async with database.read() as db:
        query = select(Device).order_by(Device.device_id)
        if device is not None:
            query = query.where(Device.device_id == normalize_device_id(device))
        for d in (await db.scalars(query)).all():
            info = await service.firmware_json(db, d)
            u = info.update
            what = (
                "no update"
                if u is None
                else (
                    f"{u.version} {u.state}"
                    + (f" {u.progress}%" if u.progress is not None else "")
                    + (f" ({u.reason})" if u.reason else "")
                )
            )
            lines.append(f"{d.device_id}\trunning {info.running or '?'}\t{what}")
    return lines or ["no devices"]
