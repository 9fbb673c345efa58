"""POST /api/event and GET /api/history: a device API key reaches only its device, a user's
access token that user's devices and those shared with them (by role, docs/sharing.md)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from pooldesk.core import api_types as api
from pooldesk_contract.refusals import Reason
from pooldesk_server.context import context_of
from pooldesk_server.db.engine import Database, Prepared
from pooldesk_server.db.models import Device
from pooldesk_server.devices.ids import check_device_id
from pooldesk_server.http.auth import DeviceAuth, UserAuth, require_user_or_device
from pooldesk_server.http.body import parse_body, read_json_object
from pooldesk_server.http.contract import BEARER_OR_KEY, TIME_QUERY, Operation, Query
from pooldesk_server.http.errors import forbidden, validation_error
from pooldesk_server.http.query import int_param
from pooldesk_server.http.responses import answer
from pooldesk_server.http.routing import route
from pooldesk_server.sharing import service as sharing
from pooldesk_server.sharing.queries import Role
from pooldesk_server.telemetry import service
from pooldesk_server.timefmt import parse_iso

EVENT_TYPE = re.compile(r"[A-Za-z0-9_.:/-]{1,64}")
EVENT_TYPE_HINT = "type must be 1-64 characters of letters, digits, _ . : / or -"
MAX_HISTORY_PAGE = 1000


async def _device_for(
    db: AsyncSession,
    auth: UserAuth | DeviceAuth,
    raw_device_id: str | None,
    roles: tuple[Role, ...] = sharing.MEMBERS,
) -> Device | None:
    """The device the call is about; None means every device of the signed-in user. A user
    reaches their own devices and those shared with them in one of `roles`."""
    if isinstance(auth, DeviceAuth):
        if raw_device_id is not None and check_device_id(raw_device_id) != auth.device.device_id:
            raise forbidden(
                "This API key belongs to another device", reason=Reason.OTHER_DEVICE_KEY
            )
        return auth.device
    if raw_device_id is None:
        return None
    found = await sharing.access(db, auth.user.id, check_device_id(raw_device_id), roles)
    return found.device


def _check_type(value: str) -> str:
    if not EVENT_TYPE.fullmatch(value):
        raise validation_error(EVENT_TYPE_HINT)
    return value


async def post_event(request: Request) -> Response:
    ctx = context_of(request)
    async with ctx.db.read() as db:
        auth = await require_user_or_device(request, db)
    raw = await read_json_object(request, ctx.settings.max_body_bytes)
    body = parse_body(raw, api.EventRequest)
    raw_device_id = body.device_id
    if isinstance(auth, UserAuth) and raw_device_id is None:
        raise validation_error("Missing required field: deviceId")
    event_type = _check_type(body.type)
    data: Any = raw.get("data", {})
    raw_ts = body.ts
    ts = None
    if raw_ts is not None:
        ts = parse_iso(raw_ts)
        if ts is None:
            raise validation_error(
                "ts must be an ISO-8601 time with a zone, e.g. 2026-01-31T12:00:00Z"
            )
    async with ctx.db.read() as db:
        device = await _device_for(db, auth, raw_device_id, sharing.CONTROLLERS)
    assert device is not None
    async with ctx.db.write() as db:
        event = await service.add_event(db, device, event_type, data, ts)
    return answer(api.EventAnswer(event=service.event_json(event, device.device_id)), 201)


def _time_param(request: Request, name: str) -> Any:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    value = parse_iso(raw)
    if value is None:
        raise validation_error(
            f"{name} must be an ISO-8601 time with a zone, e.g. 2026-01-31T12:00:00Z"
        )
    return value


async def get_history(request: Request) -> Response:
    ctx = context_of(request)
    if request.headers.get("x-api-key"):
        async with ctx.db.read() as db:
            auth = await require_user_or_device(request, db)
    else:  # a user: the hot path (session cache, no ORM objects)
        auth = await require_user_or_device(request, None, cached=True)
    query = await _history_query(request, ctx.db, auth)
    events, next_cursor = await service.history(ctx.db, query)
    return answer(api.History(events=events, next_cursor=next_cursor))


async def _history_device_pk(
    db: Database, auth: UserAuth | DeviceAuth, raw_device_id: str | None
) -> str | None:
    """The device the history is about; None means every device of the signed-in user (own
    devices only; shared ones are asked for by id)."""
    if isinstance(auth, DeviceAuth):
        if raw_device_id is not None and check_device_id(raw_device_id) != auth.device.device_id:
            raise forbidden(
                "This API key belongs to another device", reason=Reason.OTHER_DEVICE_KEY
            )
        return auth.device.id
    if raw_device_id is None:
        return None
    device_id = check_device_id(raw_device_id)
    rows = await db.fetch(_OWNED_DEVICE_PK, {"did": device_id, "uid": auth.user.id})
    if rows:
        return rows[0].id
    # Not the caller's own: shared with them (any role), else 404 (docs/sharing.md).
    async with db.read() as session:
        found = await sharing.access(session, auth.user.id, device_id, sharing.MEMBERS)
    return found.device.id


_OWNED_DEVICE_PK = Prepared(
    select(Device.id).where(
        Device.device_id == bindparam("did"), Device.user_id == bindparam("uid")
    )
)


async def _history_query(
    request: Request, db: Database, auth: UserAuth | DeviceAuth
) -> service.HistoryQuery:
    params = request.query_params
    raw_type = params.get("type")
    event_type = _check_type(raw_type) if raw_type else None
    since = _time_param(request, "from")
    until = _time_param(request, "to")
    if since and until and since > until:
        raise validation_error("from must not be later than to")
    limit = int_param(request, "limit", 100, 1, MAX_HISTORY_PAGE) or 100
    raw_cursor = params.get("cursor")
    after = None
    if raw_cursor:
        after = service.decode_cursor(raw_cursor)
        if after is None:
            raise validation_error(
                "cursor is not valid: pass back the nextCursor of a previous page"
            )
    raw_device_id = params.get("deviceId") or None
    if raw_device_id is not None and len(raw_device_id) > 32:
        raise validation_error("deviceId is too long")
    return service.HistoryQuery(
        device_pk=await _history_device_pk(db, auth, raw_device_id),
        user_id=auth.user.id,
        type=event_type,
        since=since,
        until=until,
        limit=limit,
        after=after,
    )


operations: dict[tuple[str, str], Operation] = {
    ("/api/event", "POST"): Operation(
        "Record a device event",
        api.EventAnswer,
        status=201,
        body=api.EventRequest,
        errors=(403, 404),
        security=BEARER_OR_KEY,
    ),
    ("/api/history", "GET"): Operation(
        "Device history, newest first, paginated",
        api.History,
        errors=(400, 403, 404),
        security=BEARER_OR_KEY,
        query=(
            Query("deviceId", {"type": "string", "pattern": api.DEVICE_ID_PATTERN}),
            Query("type", {"type": "string", "pattern": "^[A-Za-z0-9_.:/-]{1,64}$"}),
            Query("from", TIME_QUERY),
            Query("to", TIME_QUERY),
            Query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_HISTORY_PAGE}),
            Query("cursor", {"type": "string", "pattern": "^[0-9]{1,17}_[0-9]{1,18}$"}),
        ),
    ),
}

routes = [
    route("/api/event", {"POST": post_event}),
    route("/api/history", {"GET": get_history}),
]
