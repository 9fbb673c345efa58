"""Text output of the operator commands (`users`, `devices list`, `sessions`, `activity`)."""

from __future__ import annotations

import argparse
from datetime import datetime

from pooldesk_server.db.engine import Database
from pooldesk_server.ops import accounts
from pooldesk_server.ops.activity import unusual_activity
from pooldesk_server.settings import Settings


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    return "\n".join(lines)


def users_table(rows: list[accounts.UserRow]) -> str:
    if not rows:
        return "no accounts"
    return _table(
        ("USER", "EMAIL", "STATE", "DEVICES", "SESSIONS", "CREATED", "LAST SIGN-IN"),
        [
            (
                r.username,
                r.email,
                "disabled" if r.disabled_at else "active",
                str(r.devices),
                str(r.live_sessions),
                _when(r.created_at),
                _when(r.last_login_at),
            )
            for r in rows
        ],
    )


def devices_table(rows: list[accounts.DeviceRow], online_only: bool) -> str:
    if not rows:
        return "no devices online" if online_only else "no devices"
    return _table(
        ("DEVICE", "OWNER", "STATUS", "LAST SEEN", "NAME"),
        [(d.device_id, d.owner, d.status, _when(d.last_seen), d.name) for d in rows],
    )


def user_detail(detail: accounts.UserDetail) -> str:
    u = detail.user
    lines = [
        f"user       {u.username} ({detail.user_id})",
        f"email      {u.email}",
        f"state      {'disabled since ' + _when(u.disabled_at) if u.disabled_at else 'active'}",
        f"created    {_when(u.created_at)}",
        f"signed in  {_when(u.last_login_at)}",
        "",
        f"devices ({len(detail.devices)})",
    ]
    lines += [
        f"  {d.device_id}  {d.status:<8} {_when(d.last_seen)}  {d.name}" for d in detail.devices
    ]
    lines += ["", f"live sessions ({len(detail.sessions)})"]
    lines += [
        f"  {sid}  since {_when(created)}  used {_when(used)}  {address or '-'}  {agent or '-'}"
        for sid, created, used, agent, address in detail.sessions
    ]
    lines += ["", f"MQTT logins ({len(detail.mqtt_logins)})"]
    lines += [f"  {name}  {kind}  {state}" for name, kind, state in detail.mqtt_logins]
    return "\n".join(lines)


async def run(database: Database, settings: Settings, args: argparse.Namespace) -> str:
    """Carry out one operator command; returns what to print."""
    if args.command == "devices":
        return devices_table(
            await accounts.list_devices(database, online_only=args.online), args.online
        )
    if args.command == "sessions":
        ended = await accounts.revoke_sessions(database, args.username)
        return (
            f"revoked {ended.sessions} session(s) of {ended.username}; "
            f"{ended.mqtt_logins} dashboard MQTT login(s) end at once on the running server"
        )
    if args.command == "activity":
        broker_log = settings.data_dir / "broker" / "mosquitto.log"
        found = await unusual_activity(
            database,
            broker_log if broker_log.exists() else None,
            hours=args.hours,
            minimum=args.min,
        )
        if not found.failed_sign_ins and not found.refused_mqtt:
            return f"no unusual activity in the last {args.hours:g} h"
        parts = []
        if found.failed_sign_ins:
            parts.append(
                _table(
                    ("ACCOUNT", "FAILED SIGN-INS"),
                    [(name, str(n)) for name, n in found.failed_sign_ins.most_common()],
                )
            )
        if found.refused_mqtt:
            parts.append(
                _table(
                    ("ADDRESS", "REFUSED MQTT LOGINS"),
                    [(where, str(n)) for where, n in found.refused_mqtt.most_common()],
                )
            )
        return "\n\n".join(parts)
    action = args.users_command
    if action == "list":
        return users_table(await accounts.list_users(database))
    if action == "show":
        return user_detail(await accounts.show_user(database, args.username))
    if action == "disable":
        ended = await accounts.disable_user(database, args.username)
        first = (
            f"{ended.username} was already disabled"
            if ended.already
            else f"disabled {ended.username}: it cannot sign in"
        )
        return (
            f"{first}; ended {ended.sessions} session(s) and {ended.mqtt_logins} MQTT login(s) "
            "(the running server cuts their connections at once; after `users enable`, the "
            "owner issues new device credentials)"
        )
    if await accounts.enable_user(database, args.username):
        return f"enabled {args.username}: it can sign in again"
    return f"{args.username} was not disabled"
