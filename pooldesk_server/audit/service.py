"""The audit log: who did what, when (UTC), from where. Never passwords, tokens or keys."""

from __future__ import annotations

import json
from typing import Any, Literal

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from pooldesk.core import api_types as api
from pooldesk_server.db.models import AuditEntry
from pooldesk_server.db.types import utcnow
from pooldesk_server.timefmt import iso

Outcome = Literal["success", "failure"]

# Every event name the backend writes; docs/backend.md lists them.
EVENTS = (
    "register",
    "login",
    "refresh",
    "refresh_reuse",
    "logout",
    "session_end",
    "password_change",
    "device_add",
    "device_rename",
    "device_remove",
    "api_key_issue",
    "credential_issue",
    "account_export",
    "account_delete",
    "account_disable",  # by the operator (`pooldesk-backend users disable`)
    "account_enable",
    "firmware_add",
    "firmware_update",
    "transfer_offered",  # hand-over (docs/sharing.md), in both accounts' logs
    "transfer_accepted",
    "transfer_done",
    "transfer_failed",
    "transfer_cancelled",
    "share_offered",  # docs/sharing.md: in the owner's and the member's logs
    "share_accepted",
    "share_ended",
    "share_role_changed",
    "setup_code_create",
    "device_set_up_by",  # in the owner's log: {installer, deviceId}
)


def record(
    session: AsyncSession,
    *,
    event: str,
    outcome: Outcome,
    user_id: str | None,
    client_address: str = "",
    **detail: Any,
) -> None:
    """Add an entry to the caller's transaction."""
    session.add(AuditEntry(**entry_values(event, outcome, user_id, client_address, **detail)))


def entry_values(
    event: str, outcome: Outcome, user_id: str | None, client_address: str = "", **detail: Any
) -> dict[str, Any]:
    """An entry's columns, for a Core insert (`record_now`) or an ORM object (`record`)."""
    return {
        "at": utcnow(),
        "user_id": user_id,
        "event": event,
        "outcome": outcome,
        "client_address": client_address[:64],
        "detail": json.dumps(detail, separators=(",", ":"), default=str),
    }


def record_now(connection: Connection, values: dict[str, Any]) -> None:
    """Insert an entry (from `entry_values`) in the connection's transaction."""
    connection.execute(insert(AuditEntry).values(values))


def entry_json(entry: AuditEntry) -> api.AuditEntry:
    return api.AuditEntry(
        id=entry.id,
        at=iso(entry.at) or "",
        event=entry.event,
        outcome=entry.outcome,  # type: ignore[arg-type]
        client_address=entry.client_address,
        detail=json.loads(entry.detail or "{}"),
    )


async def entries_for(
    session: AsyncSession, user_id: str, *, limit: int, before_id: int | None
) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.user_id == user_id)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    query = query.order_by(AuditEntry.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())
