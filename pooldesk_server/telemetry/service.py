"""Device history: storing events and reading them back page by page (newest first)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Text, and_, bindparam, or_, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from pooldesk.core import api_types as api
from pooldesk_server.db.engine import Database, Prepared
from pooldesk_server.db.models import Device, Event
from pooldesk_server.db.types import utcnow
from pooldesk_server.timefmt import iso


@dataclass(frozen=True)
class HistoryQuery:
    device_pk: str | None  # one device, or every device of user_id
    user_id: str
    type: str | None
    since: datetime | None
    until: datetime | None
    limit: int
    after: tuple[datetime, int] | None  # keyset cursor: continue below this (ts, id)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def encode_cursor(ts: datetime, event_id: int) -> str:
    return f"{(ts - EPOCH) // MICROSECOND}_{event_id}"


def decode_cursor(text: str) -> tuple[datetime, int] | None:
    micros, sep, event_id = text.partition("_")
    if not sep or not (micros.isascii() and micros.isdigit()):
        return None
    if not (event_id.isascii() and event_id.isdigit()) or len(micros) > 17 or len(event_id) > 18:
        return None
    try:
        ts = EPOCH + int(micros) * MICROSECOND
    except OverflowError:
        return None
    return ts, int(event_id)


async def add_event(
    db: AsyncSession, device: Device, event_type: str, data: Any, ts: datetime | None
) -> Event:
    now = utcnow()
    event = Event(
        device_pk=device.id,
        type=event_type,
        ts=ts or now,
        received_at=now,
        data=json.dumps(data, separators=(",", ":")),
    )
    db.add(event)
    await db.flush()
    return event


def _not_a_number(_name: str) -> None:
    return None


_decode_json = msgspec.json.Decoder().decode


def stored_data(text: str) -> Any:
    """A stored event's `data`, safe to send as JSON.

    Rows written before the recorder refused them may hold NaN or Infinity (which JSON cannot
    carry): they come back as null. Text that is not JSON at all (or nested too deep to read)
    comes back as `{"raw": text}`. A history page must never fail because of one row.
    """
    try:
        return _decode_json(text)  # the common case, fast; strict JSON only
    except (msgspec.DecodeError, RecursionError):
        pass
    try:
        return json.loads(text, parse_constant=_not_a_number)
    except (ValueError, RecursionError):
        return {"raw": text}


def event_json(event: Event, device_id: str) -> api.HistoryEvent:
    return api.HistoryEvent(
        id=event.id,
        device_id=device_id,
        type=event.type,
        ts=iso(event.ts) or "",
        data=stored_data(event.data),
    )


async def history(db: Database, query: HistoryQuery) -> tuple[list[api.HistoryEvent], str | None]:
    # One prepared statement per combination of filters (compiled once, run on the driver
    # directly on SQLite): building and compiling the SELECT per request was a third of the
    # handler. Plain columns, not ORM objects: a page is up to 1000 rows and this is the hot read
    # path. `ts` comes as the database gives it (SQLite: text), turned into ISO-8601 by slicing.
    params: dict[str, Any] = {"lim": query.limit + 1}
    if query.device_pk is not None:
        params["dpk"] = query.device_pk
    else:
        params["uid"] = query.user_id
    if query.type is not None:
        params["type"] = query.type
    if query.since is not None:
        params["since"] = query.since
    if query.until is not None:
        params["until"] = query.until
    if query.after is not None:
        params["ats"], params["aid"] = query.after
    rows = await db.fetch(_history_statement(frozenset(params)), params)
    page = rows[: query.limit]
    next_cursor = None
    if len(rows) > query.limit:
        last = page[-1]
        next_cursor = encode_cursor(_as_datetime(last.ts), last.id)
    events = [
        api.HistoryEvent(
            id=row.id,
            device_id=row.device_id,
            type=row.type,
            ts=_iso_from_db(row.ts),
            data=stored_data(row.data),
        )
        for row in page
    ]
    return events, next_cursor


_HISTORY_STATEMENTS: dict[frozenset[str], Prepared] = {}


def _history_statement(present: frozenset[str]) -> Prepared:
    """The page query for this set of bound filters (at most 32 of them, made on first use)."""
    found = _HISTORY_STATEMENTS.get(present)
    if found is not None:
        return found
    statement = select(
        Event.id, Event.type, type_coerce(Event.ts, Text).label("ts"), Event.data, Device.device_id
    ).join(Device, Device.id == Event.device_pk)
    if "dpk" in present:
        statement = statement.where(Event.device_pk == bindparam("dpk"))
    else:
        statement = statement.where(Device.user_id == bindparam("uid"))
    if "type" in present:
        statement = statement.where(Event.type == bindparam("type"))
    if "since" in present:
        statement = statement.where(Event.ts >= bindparam("since"))
    if "until" in present:
        statement = statement.where(Event.ts <= bindparam("until"))
    if "ats" in present:
        at = bindparam("ats", type_=Event.ts.type)
        statement = statement.where(
            or_(Event.ts < at, and_(Event.ts == at, Event.id < bindparam("aid")))
        )
    statement = statement.order_by(Event.ts.desc(), Event.id.desc()).limit(bindparam("lim"))
    prepared = _HISTORY_STATEMENTS[present] = Prepared(statement)
    return prepared


def _as_datetime(value: datetime | str) -> datetime:
    """A stored `ts` read without its column type: SQLite's naive UTC text, or a datetime."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _iso_from_db(value: datetime | str) -> str:
    """What `iso(ts)` gives, without parsing SQLite's `YYYY-MM-DD HH:MM:SS.ffffff` text."""
    if isinstance(value, str) and len(value) == 26 and value[10] == " " and value[19] == ".":
        return f"{value[:10]}T{value[11:23]}Z"
    return iso(_as_datetime(value))  # type: ignore[return-value]
