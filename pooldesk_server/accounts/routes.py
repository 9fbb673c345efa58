"""/api/auth/* and /api/account/* handlers: parse, call the service, shape the answer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from pooldesk_server.accounts.service import AccountService, Client, user_json
from pooldesk_server.accounts.validation import check_email, check_username
from pooldesk_server.audit.service import entries_for, entry_json
from pooldesk_server.context import client_address, context_of, user_agent
from pooldesk_server.devices.ids import check_device_id
from pooldesk_server.devices.service import first_device_id
from pooldesk_server.http.auth import require_user
from pooldesk_server.http.body import optional_str, read_json_object, require_fields, required_str
from pooldesk_server.http.errors import not_found
from pooldesk_server.http.query import int_param
from pooldesk_server.http.responses import ok
from pooldesk_server.http.routing import route
from pooldesk_server.timefmt import iso

PASSWORD_MAX = 1024


def _service(request: Request) -> AccountService:
    return AccountService(context_of(request))


def _client(request: Request) -> Client:
    return Client(address=client_address(request), user_agent=user_agent(request))


async def _body(request: Request) -> dict:
    return await read_json_object(request, context_of(request).settings.max_body_bytes)


async def register(request: Request) -> JSONResponse:
    body = await _body(request)
    require_fields(body, ("username", "email", "password"))
    username = check_username(required_str(body, "username", max_length=64))
    email = check_email(required_str(body, "email", max_length=254))
    password = required_str(body, "password", max_length=PASSWORD_MAX)
    # Left out (or null): an account without a controller yet (docs/sharing.md).
    raw_device_id = optional_str(body, "deviceId", max_length=32)
    device_id = check_device_id(raw_device_id) if raw_device_id is not None else None
    claim_code = optional_str(body, "claimCode", max_length=128)
    user, device = await _service(request).register(
        username=username,
        email=email,
        password=password,
        device_id=device_id,
        claim_code=claim_code,
        client=_client(request),
    )
    return ok(
        201,
        message="Registration successful",
        userId=user.id,
        deviceId=device.device_id if device is not None else None,
        username=user.username,
    )


async def login(request: Request) -> JSONResponse:
    body = await _body(request)
    require_fields(body, ("username", "password"))
    username = required_str(body, "username", max_length=254).strip()
    password = required_str(body, "password", max_length=PASSWORD_MAX)
    ctx = context_of(request)
    pair, user = await _service(request).login(username, password, _client(request))
    return ok(
        token=pair.access_token,
        expiresIn=ctx.settings.access_token_seconds,
        refreshToken=pair.refresh_token,
        refreshExpiresIn=ctx.settings.refresh_token_seconds,
        sessionId=pair.session_id,
        user=user,
    )


async def refresh(request: Request) -> JSONResponse:
    body = await _body(request)
    token = required_str(body, "refreshToken", max_length=4096)
    ctx = context_of(request)
    pair = await _service(request).refresh(token, _client(request))
    return ok(
        token=pair.access_token,
        expiresIn=ctx.settings.access_token_seconds,
        refreshToken=pair.refresh_token,
        refreshExpiresIn=ctx.settings.refresh_token_seconds,
        sessionId=pair.session_id,
    )


async def logout(request: Request) -> JSONResponse:
    auth = await require_user(request)
    await _service(request).end_sessions(auth.user, [auth.session_id], "logout", _client(request))
    return ok(message="Logged out successfully")


async def verify(request: Request) -> JSONResponse:
    async with context_of(request).db.read() as db:
        auth = await require_user(request, db)
        device_id = await first_device_id(db, auth.user.id)
    return ok(user=user_json(auth.user, device_id), sessionId=auth.session_id)


async def list_sessions(request: Request) -> JSONResponse:
    auth = await require_user(request)
    sessions = await _service(request).live_sessions(auth.user.id)
    return ok(
        sessions=[
            {
                "id": s.id,
                "createdAt": iso(s.created_at),
                "lastUsedAt": iso(s.last_used_at),
                "expiresAt": iso(s.expires_at),
                "userAgent": s.user_agent,
                "clientAddress": s.client_address,
                "current": s.id == auth.session_id,
            }
            for s in sessions
        ]
    )


async def end_session(request: Request) -> JSONResponse:
    auth = await require_user(request)
    session_id = request.path_params["session_id"]
    service = _service(request)
    live = {s.id for s in await service.live_sessions(auth.user.id)}
    if session_id not in live:
        raise not_found("No such active session on your account")
    reason = "logout" if session_id == auth.session_id else "session_deleted"
    await service.end_sessions(auth.user, [session_id], reason, _client(request))
    return ok(message="Session ended")


async def change_password(request: Request) -> JSONResponse:
    auth = await require_user(request)
    body = await _body(request)
    require_fields(body, ("currentPassword", "newPassword"))
    current = required_str(body, "currentPassword", max_length=PASSWORD_MAX)
    new = required_str(body, "newPassword", max_length=PASSWORD_MAX)
    await _service(request).change_password(
        auth.user, auth.session_id, current, new, _client(request)
    )
    return ok(message="Password changed; your other sessions have been signed out")


async def export_account(request: Request) -> JSONResponse:
    auth = await require_user(request)
    data = await _service(request).export(auth.user, _client(request))
    return ok(data=data)


async def delete_account(request: Request) -> JSONResponse:
    auth = await require_user(request)
    body = await _body(request)
    password = required_str(body, "password", max_length=PASSWORD_MAX)
    await _service(request).delete_account(auth.user, password, _client(request))
    return ok(message="Account deleted")


async def audit(request: Request) -> JSONResponse:
    auth = await require_user(request)
    limit = int_param(request, "limit", 100, 1, 500) or 100
    before = int_param(request, "cursor", None, 1, 2**62)
    async with context_of(request).db.read() as db:
        entries = await entries_for(db, auth.user.id, limit=limit + 1, before_id=before)
    page = entries[:limit]
    next_cursor = str(page[-1].id) if len(entries) > limit else None
    return ok(entries=[entry_json(e) for e in page], nextCursor=next_cursor)


routes = [
    route("/api/auth/register", {"POST": register}),
    route("/api/auth/login", {"POST": login}),
    route("/api/auth/refresh", {"POST": refresh}),
    route("/api/auth/logout", {"POST": logout}),
    route("/api/auth/verify", {"GET": verify}),
    route("/api/auth/sessions", {"GET": list_sessions}),
    route("/api/auth/sessions/{session_id}", {"DELETE": end_session}),
    route("/api/auth/password", {"POST": change_password}),
    route("/api/account", {"DELETE": delete_account}),
    route("/api/account/export", {"GET": export_account}),
    route("/api/account/audit", {"GET": audit}),
]
