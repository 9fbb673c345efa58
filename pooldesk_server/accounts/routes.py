"""/api/auth/* and /api/account/* handlers: parse, call the service, shape the answer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from pooldesk.core import api_types as api
from pooldesk_contract.refusals import Reason
from pooldesk_server.accounts.events import SessionEndReason
from pooldesk_server.accounts.service import AccountService, Client, user_json
from pooldesk_server.accounts.validation import check_email, check_username
from pooldesk_server.audit.service import entries_for, entry_json
from pooldesk_server.context import client_address, context_of, user_agent
from pooldesk_server.devices.ids import check_device_id
from pooldesk_server.devices.service import first_device_id_fast
from pooldesk_server.http.auth import require_user
from pooldesk_server.http.body import read_body
from pooldesk_server.http.contract import BEARER, Operation, Query
from pooldesk_server.http.errors import not_found
from pooldesk_server.http.query import int_param
from pooldesk_server.http.responses import answer
from pooldesk_server.http.routing import route
from pooldesk_server.timefmt import iso


def _service(request: Request) -> AccountService:
    return AccountService(context_of(request))


def _client(request: Request) -> Client:
    return Client(address=client_address(request), user_agent=user_agent(request))


def _max_body(request: Request) -> int:
    return context_of(request).settings.max_body_bytes


async def register(request: Request) -> Response:
    body = await read_body(request, api.RegisterRequest, _max_body(request))
    username = check_username(body.username)
    email = check_email(body.email)
    # Left out (or null): an account without a controller yet (docs/sharing.md).
    device_id = check_device_id(body.device_id) if body.device_id is not None else None
    # argon2 and write transactions: a crowd waits its turn (pooldesk_server/http/admission.py).
    async with context_of(request).sign_ins.turn():
        user, device = await _service(request).register(
            username=username,
            email=email,
            password=body.password,
            device_id=device_id,
            claim_code=body.claim_code,
            client=_client(request),
        )
    return answer(
        api.Registered(
            message="Registration successful",
            user_id=user.id,
            device_id=device.device_id if device is not None else None,
            username=user.username,
        ),
        201,
    )


async def login(request: Request) -> Response:
    body = await read_body(request, api.LoginRequest, _max_body(request))
    ctx = context_of(request)
    # argon2 and a write transaction: a crowd waits its turn (AccountService.login).
    pair, user = await _service(request).login(
        body.username.strip(), body.password, _client(request)
    )
    return answer(
        api.SignedIn(
            token=pair.access_token,
            expires_in=ctx.settings.access_token_seconds,
            refresh_token=pair.refresh_token,
            refresh_expires_in=ctx.settings.refresh_token_seconds,
            session_id=pair.session_id,
            user=user,
        )
    )


async def refresh(request: Request) -> Response:
    body = await read_body(request, api.RefreshRequest, _max_body(request))
    ctx = context_of(request)
    pair = await _service(request).refresh(body.refresh_token, _client(request))
    return answer(
        api.TokenPair(
            token=pair.access_token,
            expires_in=ctx.settings.access_token_seconds,
            refresh_token=pair.refresh_token,
            refresh_expires_in=ctx.settings.refresh_token_seconds,
            session_id=pair.session_id,
        )
    )


async def logout(request: Request) -> Response:
    auth = await require_user(request)
    await _service(request).end_sessions(auth.user, [auth.session_id], "logout", _client(request))
    return answer(api.Message(message="Logged out successfully"))


async def verify(request: Request) -> Response:
    auth = await require_user(request, cached=True)
    cache = context_of(request).session_cache
    known, device_id = cache.first_device(auth.user.id)
    if not known:
        epoch = cache.epoch
        device_id = await first_device_id_fast(context_of(request).db, auth.user.id)
        cache.put_first_device(auth.user.id, device_id, epoch)
    return answer(api.Verified(user=user_json(auth.user, device_id), session_id=auth.session_id))


async def list_sessions(request: Request) -> Response:
    auth = await require_user(request, cached=True)
    sessions = await _service(request).live_sessions(auth.user.id)
    return answer(
        api.Sessions(
            sessions=[
                api.SessionInfo(
                    id=s.id,
                    created_at=iso(s.created_at) or "",
                    last_used_at=iso(s.last_used_at) or "",
                    expires_at=iso(s.expires_at) or "",
                    user_agent=s.user_agent,
                    client_address=s.client_address,
                    current=s.id == auth.session_id,
                )
                for s in sessions
            ]
        )
    )


async def end_session(request: Request) -> Response:
    auth = await require_user(request)
    session_id = request.path_params["session_id"]
    service = _service(request)
    live = {s.id for s in await service.live_sessions(auth.user.id)}
    if session_id not in live:
        raise not_found("No such active session on your account", reason=Reason.SESSION_NOT_FOUND)
    reason: SessionEndReason = "logout" if session_id == auth.session_id else "session_deleted"
    await service.end_sessions(auth.user, [session_id], reason, _client(request))
    return answer(api.Message(message="Session ended"))


async def change_password(request: Request) -> Response:
    auth = await require_user(request)
    body = await read_body(request, api.PasswordChangeRequest, _max_body(request))
    await _service(request).change_password(
        auth.user, auth.session_id, body.current_password, body.new_password, _client(request)
    )
    return answer(api.Message(message="Password changed; your other sessions have been signed out"))


async def export_account(request: Request) -> Response:
    auth = await require_user(request)
    data = await _service(request).export(auth.user, _client(request))
    return answer(api.Export(data=data))


async def delete_account(request: Request) -> Response:
    auth = await require_user(request)
    body = await read_body(request, api.AccountDeleteRequest, _max_body(request))
    await _service(request).delete_account(auth.user, body.password, _client(request))
    return answer(api.Message(message="Account deleted"))


async def audit(request: Request) -> Response:
    auth = await require_user(request, cached=True)
    limit = int_param(request, "limit", 100, 1, 500) or 100
    before = int_param(request, "cursor", None, 1, 2**62)
    async with context_of(request).db.read() as db:
        entries = await entries_for(db, auth.user.id, limit=limit + 1, before_id=before)
    page = entries[:limit]
    next_cursor = str(page[-1].id) if len(entries) > limit else None
    return answer(api.Audit(entries=[entry_json(e) for e in page], next_cursor=next_cursor))


CURSOR = {"type": "integer", "minimum": 1, "maximum": 2**62}

operations: dict[tuple[str, str], Operation] = {
    ("/api/auth/register", "POST"): Operation(
        "Create an account; the deviceId becomes its first device",
        api.Registered,
        status=201,
        body=api.RegisterRequest,
        errors=(403, 409, 429),
    ),
    ("/api/auth/login", "POST"): Operation(
        "Sign in",
        api.SignedIn,
        body=api.LoginRequest,
        errors=(401, 403, 429, 503),  # 403 account_disabled; 503 overloaded (Retry-After)
    ),
    ("/api/auth/refresh", "POST"): Operation(
        "Rotate a refresh token (a spent one: the same pair within 30 s, else the session ends)",
        api.TokenPair,
        body=api.RefreshRequest,
        errors=(401, 403),
    ),
    ("/api/auth/logout", "POST"): Operation("End this session", api.Message, security=BEARER),
    ("/api/auth/verify", "GET"): Operation("Check the access token", api.Verified, security=BEARER),
    ("/api/auth/sessions", "GET"): Operation("Active sessions", api.Sessions, security=BEARER),
    ("/api/auth/sessions/{session_id}", "DELETE"): Operation(
        "End one session", api.Message, security=BEARER
    ),
    ("/api/auth/password", "POST"): Operation(
        "Change the password; other sessions end",
        api.Message,
        body=api.PasswordChangeRequest,
        errors=(403, 429),
        security=BEARER,
    ),
    ("/api/account", "DELETE"): Operation(
        "Delete the account and all its data",
        api.Message,
        body=api.AccountDeleteRequest,
        errors=(403, 429),
        security=BEARER,
    ),
    ("/api/account/export", "GET"): Operation(
        "All of your data as JSON", api.Export, security=BEARER
    ),
    ("/api/account/audit", "GET"): Operation(
        "Your audit log, newest first",
        api.Audit,
        errors=(400,),
        security=BEARER,
        query=(
            Query("limit", {"type": "integer", "minimum": 1, "maximum": 500}),
            Query("cursor", CURSOR, "nextCursor of the previous page"),
        ),
    ),
}


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
