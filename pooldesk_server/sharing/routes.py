"""/api/shares and /api/setup-codes handlers: thin, over `service` (docs/sharing.md)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from pooldesk_server.accounts.events import RightsChanged
from pooldesk_server.context import client_address, context_of
from pooldesk_server.devices.ids import check_device_id
from pooldesk_server.http.auth import require_user
from pooldesk_server.http.body import optional_str, read_json_object, required_str
from pooldesk_server.http.responses import ok
from pooldesk_server.http.routing import route
from pooldesk_server.sharing import service, setup_codes
from pooldesk_server.sharing.queries import ShareRow


async def _rights_changed(request: Request, row: ShareRow, was_active: bool) -> None:
    """The member's broker rights follow the share before the answer goes out."""
    if was_active or row.share.status == "active":
        await context_of(request).events.publish(RightsChanged((row.member,)))


async def offer_share(request: Request) -> JSONResponse:
    auth = await require_user(request)
    ctx = context_of(request)
    body = await read_json_object(request, ctx.settings.max_body_bytes)
    username = required_str(body, "username", max_length=64).strip()
    role = required_str(body, "role", max_length=16)
    raw_device = optional_str(body, "deviceId", max_length=32)
    device_id = check_device_id(raw_device) if raw_device is not None else None
    async with ctx.db.write() as db:
        row = await service.offer(db, auth.user, username, role, device_id, client_address(request))
    return ok(201, share=service.share_json(row))


async def list_shares(request: Request) -> JSONResponse:
    async with context_of(request).db.read() as db:
        auth = await require_user(request, db)
        listed = await service.listing(db, auth.user.id)
    return ok(**listed)


async def accept_share(request: Request) -> JSONResponse:
    auth = await require_user(request)
    ctx = context_of(request)
    async with ctx.db.write() as db:
        row = await service.accept(
            db, auth.user.id, request.path_params["share_id"], client_address(request)
        )
    await _rights_changed(request, row, was_active=False)
    return ok(share=service.share_json(row))


async def change_share(request: Request) -> JSONResponse:
    ctx = context_of(request)
    body = await read_json_object(request, ctx.settings.max_body_bytes)
    role = required_str(body, "role", max_length=16)
    row = await _on_share(request, service.change_role, role)
    return ok(share=service.share_json(row))


async def end_share(request: Request) -> JSONResponse:
    await _on_share(request, service.end)
    return ok(message="Access ended")


async def _on_share(request: Request, action: Any, *args: str) -> ShareRow:
    """Run `action(db, user id, share id, *args, client)` in a write transaction, then let the
    member's broker rights follow when the share is (or was) active."""
    auth = await require_user(request)
    async with context_of(request).db.write() as db:
        row: ShareRow = await action(
            db, auth.user.id, request.path_params["share_id"], *args, client_address(request)
        )
    await _rights_changed(request, row, was_active=row.share.status == "active")
    return row


async def create_setup_code(request: Request) -> JSONResponse:
    auth = await require_user(request)
    async with context_of(request).db.write() as db:
        code = await setup_codes.create(db, auth.user, client_address(request))
    return ok(201, setupCode=code)


async def list_setup_codes(request: Request) -> JSONResponse:
    async with context_of(request).db.read() as db:
        auth = await require_user(request, db)
        listed = await setup_codes.listing(db, auth.user.id)
    return ok(setupCodes=listed)


async def delete_setup_code(request: Request) -> JSONResponse:
    auth = await require_user(request)
    async with context_of(request).db.write() as db:
        await setup_codes.remove(db, auth.user.id, request.path_params["code_id"])
    return ok(message="Set-up code deleted")


async def end_setup_grant(request: Request) -> JSONResponse:
    """The installer's wizard is done: their access ends now (docs/sharing.md)."""
    auth = await require_user(request)
    device_id = check_device_id(request.path_params["device_id"])
    async with context_of(request).db.write() as db:
        await setup_codes.end_grant(db, auth.user.id, device_id)
    return ok(message=f"Your set-up access to {device_id} has ended")


routes = [
    route("/api/shares", {"GET": list_shares, "POST": offer_share}),
    route("/api/shares/{share_id}", {"PATCH": change_share, "DELETE": end_share}),
    route("/api/shares/{share_id}/accept", {"POST": accept_share}),
    route("/api/setup-codes", {"GET": list_setup_codes, "POST": create_setup_code}),
    route("/api/setup-codes/{code_id}", {"DELETE": delete_setup_code}),
    route("/api/devices/{device_id}/setup-grant", {"DELETE": end_setup_grant}),
]
