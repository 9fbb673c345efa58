"""/api/devices handlers."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import Response

from pooldesk.core import api_types as api
from pooldesk_contract.refusals import Reason
from pooldesk_server.accounts import throttle
from pooldesk_server.accounts.events import DeviceUnbound, RightsChanged
from pooldesk_server.audit.service import record
from pooldesk_server.context import client_address, context_of
from pooldesk_server.devices import service
from pooldesk_server.devices.ids import check_device_id, normalize_device_id
from pooldesk_server.firmware.service import firmware_json
from pooldesk_server.http.auth import require_user
from pooldesk_server.http.body import read_body
from pooldesk_server.http.contract import BEARER, Operation
from pooldesk_server.http.errors import malformed_device_id
from pooldesk_server.http.responses import answer
from pooldesk_server.http.routing import route
from pooldesk_server.sharing import service as sharing
from pooldesk_server.sharing import setup_codes


def _path_device_id(request: Request) -> str:
    device_id = normalize_device_id(request.path_params["device_id"])
    if device_id is None:
        raise malformed_device_id()
    return device_id


async def list_devices(request: Request) -> Response:
    """The caller's own devices, then the devices shared with them (docs/sharing.md)."""
    auth = await require_user(request, cached=True)
    ctx = context_of(request)
    listed = await service.listed_devices(ctx.db, auth.user.id)
    return answer(api.Devices(devices=listed))


async def get_device(request: Request) -> Response:
    device_id = _path_device_id(request)
    async with context_of(request).db.read() as db:
        auth = await require_user(request, db)
        found = await sharing.access(db, auth.user.id, device_id, sharing.ANYONE)
        firmware = await firmware_json(db, found.device)
    device = service.listed_device(found.device, firmware, found.owner, found.role)
    return answer(api.ListedDeviceAnswer(device=device))


async def add_device(request: Request) -> Response:
    auth = await require_user(request)
    ctx = context_of(request)
    body = await read_body(request, api.AddDeviceRequest, ctx.settings.max_body_bytes)
    device_id = check_device_id(body.device_id)
    name = service.check_name(body.name) if body.name is not None else None
    claim_code = body.claim_code
    if body.setup_code is not None:
        return await _add_for_owner(request, device_id, name, claim_code, body.setup_code)
    try:
        async with ctx.db.write() as db:
            # Counted first (and serialising this user's adds): 429 past the allowance.
            await throttle.count_attempt(
                db,
                throttle.device_add_limits(auth.user.id, ctx.settings),
                ctx.settings,
                what="devices added in a short time",
                reason=Reason.TOO_MANY_REQUESTS,
            )
            refusal = await service.claim_refusal(
                db, device_id, claim_code, user_id=auth.user.id, settings=ctx.settings
            )
            if refusal is None:
                await service.ensure_unowned(db, device_id, auth.user.id)
                await service.ensure_room(db, auth.user.id, ctx.settings)
                device = service.new_device(auth.user, device_id, name)
                db.add(device)
                record(
                    db,
                    event="device_add",
                    outcome="success",
                    user_id=auth.user.id,
                    client_address=client_address(request),
                    deviceId=device_id,
                )
            else:
                # Committed with the counted attempt; the refusal is raised after the commit.
                record(
                    db,
                    event="device_add",
                    outcome="failure",
                    user_id=auth.user.id,
                    client_address=client_address(request),
                    deviceId=device_id,
                    reason=service.WRONG_CLAIM_CODE,
                )
    except IntegrityError:
        raise service.registered_elsewhere(device_id) from None
    if refusal is not None:
        raise refusal
    ctx.session_cache.forget_user(auth.user.id)  # its first device may be this one now
    return answer(
        api.DeviceAnswer(device=service.device_json(device, auth.user.username, "owner")), 201
    )


async def _add_for_owner(
    request: Request, device_id: str, name: str | None, claim_code: str | None, setup_code: str
) -> Response:
    """An installer adds the device to the owner of the set-up code (docs/sharing.md)."""
    auth = await require_user(request)
    ctx = context_of(request)
    try:
        async with ctx.db.write() as db:
            added = await setup_codes.add_device(
                db,
                auth.user,
                device_id,
                name,
                claim_code,
                setup_code,
                ctx.settings,
                client_address(request),
            )
    except IntegrityError:
        raise service.registered_elsewhere(device_id) from None
    if added.refusal is not None:
        raise added.refusal
    assert added.device is not None
    ctx.session_cache.forget_user(added.device.user_id)  # the owner's first device may change
    device = service.device_json(added.device, added.owner, "installer")
    return answer(api.DeviceAnswer(device=device), 201)


async def rename_device(request: Request) -> Response:
    auth = await require_user(request)
    ctx = context_of(request)
    device_id = _path_device_id(request)
    body = await read_body(request, api.RenameDeviceRequest, ctx.settings.max_body_bytes)
    name = service.check_name(body.name)
    async with ctx.db.write() as db:
        device = await service.owned_device(db, auth.user.id, device_id)
        device.name = name
        record(
            db,
            event="device_rename",
            outcome="success",
            user_id=auth.user.id,
            client_address=client_address(request),
            deviceId=device_id,
        )
    return answer(api.DeviceAnswer(device=service.device_json(device)))


async def remove_device(request: Request) -> Response:
    auth = await require_user(request)
    ctx = context_of(request)
    device_id = _path_device_id(request)
    async with ctx.db.write() as db:
        device = await service.owned_device(db, auth.user.id, device_id)
        members = await sharing.delete_device_shares(db, device)
        mqtt_users = await service.unbind(db, device)
        record(
            db,
            event="device_remove",
            outcome="success",
            user_id=auth.user.id,
            client_address=client_address(request),
            deviceId=device_id,
        )
    await ctx.events.publish(DeviceUnbound(auth.user.id, auth.user.username, device_id, mqtt_users))
    if members:
        await ctx.events.publish(RightsChanged(tuple(members)))
    return answer(api.Message(message=f"Device {device_id} removed from your account"))


async def new_api_key(request: Request) -> Response:
    auth = await require_user(request)
    ctx = context_of(request)
    device_id = _path_device_id(request)
    async with ctx.db.write() as db:
        device = await service.owned_device(db, auth.user.id, device_id)
        key = await service.issue_api_key(db, device)
        record(
            db,
            event="api_key_issue",
            outcome="success",
            user_id=auth.user.id,
            client_address=client_address(request),
            deviceId=device_id,
        )
    return answer(api.ApiKey(device_id=device_id, api_key=key), 201)


operations: dict[tuple[str, str], Operation] = {
    ("/api/devices", "GET"): Operation(
        "Your devices, then those shared with you (with owner and role)",
        api.Devices,
        security=BEARER,
    ),
    ("/api/devices/{device_id}", "GET"): Operation(
        "One device you own, is shared with you, or you are setting up (with owner and role)",
        api.ListedDeviceAnswer,
        security=BEARER,
    ),
    ("/api/devices", "POST"): Operation(
        "Add a device (with setupCode: an installer adds it to the code's owner)",
        api.DeviceAnswer,
        status=201,
        body=api.AddDeviceRequest,
        errors=(403, 409, 429),
        security=BEARER,
    ),
    ("/api/devices/{device_id}", "PATCH"): Operation(
        "Rename a device (owner only)",
        api.DeviceAnswer,
        body=api.RenameDeviceRequest,
        errors=(403,),
        security=BEARER,
    ),
    ("/api/devices/{device_id}", "DELETE"): Operation(
        "Unbind a device (its history and shares go too; owner only)",
        api.Message,
        errors=(403,),
        security=BEARER,
    ),
    ("/api/devices/{device_id}/api-key", "POST"): Operation(
        "Issue a new API key for the device (the old one stops working); shown once",
        api.ApiKey,
        status=201,
        errors=(403,),
        security=BEARER,
    ),
}

routes = [
    route("/api/devices", {"GET": list_devices, "POST": add_device}),
    route(
        "/api/devices/{device_id}",
        {"GET": get_device, "PATCH": rename_device, "DELETE": remove_device},
    ),
    route("/api/devices/{device_id}/api-key", {"POST": new_api_key}),
]
