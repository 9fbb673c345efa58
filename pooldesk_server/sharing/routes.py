"""/api/shares and /api/setup-codes handlers: thin, over `service` (docs/sharing.md)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from pooldesk.core import api_types as api
from pooldesk_server.accounts.events import RightsChanged
from pooldesk_server.context import client_address, context_of
from pooldesk_server.devices.ids import check_device_id, normalize_device_id
from pooldesk_server.http.auth import UserAuth, require_user
from pooldesk_server.http.body import read_body
from pooldesk_server.http.contract import BEARER, Operation
from pooldesk_server.http.errors import malformed_device_id
from pooldesk_server.http.responses import answer
from pooldesk_server.http.routing import route
from pooldesk_server.sharing import service, setup_codes
from pooldesk_server.sharing.queries import ShareRow


async def _rights_changed(request: Request, row: ShareRow, was_active: bool) -> None:
    """The member's broker rights follow the share before the answer goes out."""
    if was_active or row.share.status == "active":
        await context_of(request).events.publish(RightsChanged((row.member,)))


async def offer_share(request: Request) -> Response:
    auth = await require_user(request)
    ctx = context_of(request)
    body = await read_body(request, api.ShareRequest, ctx.settings.max_body_bytes)
    device_id = check_device_id(body.device_id) if body.device_id is not None else None
    async with ctx.db.write() as db:
        row = await service.offer(
            db, auth.user, body.username.strip(), body.role, device_id, client_address(request)
        )
    return answer(api.ShareAnswer(share=service.share_json(row)), 201)


async def list_shares(request: Request) -> Response:
    async with context_of(request).db.read() as db:
        auth = await require_user(request, db)
        listed = await service.listing(db, auth.user.id)
    return answer(listed)


async def accept_share(request: Request) -> Response:
    auth = await require_user(request)
    ctx = context_of(request)
    async with ctx.db.write() as db:
        row = await service.accept(
            db, auth.user.id, request.path_params["share_id"], client_address(request)
        )
    await _rights_changed(request, row, was_active=False)
    return answer(api.ShareAnswer(share=service.share_json(row)))


async def change_share(request: Request) -> Response:
    auth = await require_user(request)
    ctx = context_of(request)
    body = await read_body(request, api.ShareRoleRequest, ctx.settings.max_body_bytes)
    row = await _on_share(request, auth, service.change_role, body.role)
    return answer(api.ShareAnswer(share=service.share_json(row)))


async def end_share(request: Request) -> Response:
    await _on_share(request, await require_user(request), service.end)
    return answer(api.Message(message="Access ended"))


async def _on_share(request: Request, auth: UserAuth, action: Any, *args: str) -> ShareRow:
    """Run `action(db, user id, share id, *args, client)` in a write transaction, then let the
    member's broker rights follow when the share is (or was) active."""
    async with context_of(request).db.write() as db:
        row: ShareRow = await action(
            db, auth.user.id, request.path_params["share_id"], *args, client_address(request)
        )
    await _rights_changed(request, row, was_active=row.share.status == "active")
    return row


async def create_setup_code(request: Request) -> Response:
    auth = await require_user(request)
    async with context_of(request).db.write() as db:
        code = await setup_codes.create(db, auth.user, client_address(request))
    return answer(api.SetupCodeAnswer(setup_code=code), 201)


async def list_setup_codes(request: Request) -> Response:
    async with context_of(request).db.read() as db:
        auth = await require_user(request, db)
        listed = await setup_codes.listing(db, auth.user.id)
    return answer(api.SetupCodes(setup_codes=listed))


async def delete_setup_code(request: Request) -> Response:
    auth = await require_user(request)
    async with context_of(request).db.write() as db:
        await setup_codes.remove(db, auth.user.id, request.path_params["code_id"])
    return answer(api.Message(message="Set-up code deleted"))


async def end_setup_grant(request: Request) -> Response:
    """The installer's wizard is done: their access ends now (docs/sharing.md)."""
    auth = await require_user(request)
    device_id = normalize_device_id(request.path_params["device_id"])
    if device_id is None:
        raise malformed_device_id()
    async with context_of(request).db.write() as db:
        await setup_codes.end_grant(db, auth.user.id, device_id)
    return answer(api.Message(message=f"Your set-up access to {device_id} has ended"))


routes = [
    route("/api/shares", {"GET": list_shares, "POST": offer_share}),
    route("/api/shares/{share_id}", {"PATCH": change_share, "DELETE": end_share}),
    route("/api/shares/{share_id}/accept", {"POST": accept_share}),
    route("/api/setup-codes", {"GET": list_setup_codes, "POST": create_setup_code}),
    route("/api/setup-codes/{code_id}", {"DELETE": delete_setup_code}),
    route("/api/devices/{device_id}/setup-grant", {"DELETE": end_setup_grant}),
]

operations: dict[tuple[str, str], Operation] = {
    ("/api/shares", "POST"): Operation(
        "Invite an account to one device (or all of yours) as operator or viewer",
        api.ShareAnswer,
        status=201,
        body=api.ShareRequest,
        errors=(404, 409),
        security=BEARER,
    ),
    ("/api/shares", "GET"): Operation(
        "Shares you gave and received (received pending ones: the invitation inbox)",
        api.Shares,
        security=BEARER,
    ),
    ("/api/shares/{share_id}/accept", "POST"): Operation(
        "Accept an invitation (the member)", api.ShareAnswer, security=BEARER
    ),
    ("/api/shares/{share_id}", "PATCH"): Operation(
        "Change a share's role (the owner)",
        api.ShareAnswer,
        body=api.ShareRoleRequest,
        errors=(403,),
        security=BEARER,
    ),
    ("/api/shares/{share_id}", "DELETE"): Operation(
        "End a share (either side)", api.Message, security=BEARER
    ),
    ("/api/setup-codes", "POST"): Operation(
        "A one-time set-up code for an installer (15 minutes, single use; shown once)",
        api.SetupCodeAnswer,
        status=201,
        errors=(409,),
        security=BEARER,
    ),
    ("/api/setup-codes", "GET"): Operation(
        "Your live set-up codes (without the codes)", api.SetupCodes, security=BEARER
    ),
    ("/api/setup-codes/{code_id}", "DELETE"): Operation(
        "Delete a set-up code", api.Message, security=BEARER
    ),
    ("/api/devices/{device_id}/setup-grant", "DELETE"): Operation(
        "The installer ends their set-up access to the device", api.Message, security=BEARER
    ),
}
