"""The server side of firmware updates: HTTP routes for owners, and the loop that offers every
queued update to its unit over MQTT and records how far it got (docs/updates.md)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from pooldesk.core import api_types as api
from pooldesk_firmware.tools.release import ReleaseError, read_bundle
from pooldesk_server.audit.service import record
from pooldesk_server.broker.base import BrokerLogin
from pooldesk_server.broker.logins import new_password
from pooldesk_server.broker.rights import device_prefix
from pooldesk_server.context import AppContext, client_address, context_of
from pooldesk_server.db.models import Device, FirmwareRelease, FirmwareUpdate, User
from pooldesk_server.devices import service as devices
from pooldesk_server.devices.ids import normalize_device_id
from pooldesk_server.firmware import service
from pooldesk_server.firmware.transport import OtaSession, offer_payload, session_rights
from pooldesk_server.http.auth import require_user
from pooldesk_server.http.body import read_body
from pooldesk_server.http.contract import BEARER, Operation
from pooldesk_server.http.errors import ApiError, malformed_device_id
from pooldesk_server.http.responses import answer
from pooldesk_server.http.routing import route
from pooldesk_server.settings import Settings

if TYPE_CHECKING:
    from pooldesk_server.broker.service.extension import BrokerExtension

log = logging.getLogger("pooldesk_server.firmware")

POLL_S = 2.0  # updates queued by the CLI; the API's own wake the loop at once
# An update that reaches no end in this time (a unit offline all along) is `failed`.
DEFAULT_TIMEOUT_S = 1800.0


def _api_error(e: service.FirmwareError) -> ApiError:
    code = {404: "not_found", 409: "conflict", 413: "payload_too_large"}.get(
        e.status, "validation_error"
    )
    return ApiError(e.status, code, str(e), reason=e.reason)


class FirmwareExtension:
    name = "firmware"

    def __init__(self, settings: Settings, broker: BrokerExtension) -> None:
        self.settings = settings
        self.broker = broker  # the BrokerExtension: its `backend` issues the service logins
        self.timeout_s = float(
            os.environ.get("POOLDESK_OTA_TIMEOUT_S", DEFAULT_TIMEOUT_S) or DEFAULT_TIMEOUT_S
        )
        self._ctx: AppContext | None = None
        self._loop: asyncio.Task[None] | None = None
        self._running: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self.sessions: dict[str, OtaSession] = {}  # update id -> live session (tests look)
        self.routes: list[BaseRoute] = [
            route("/api/devices/{device_id}/firmware-update", {"POST": self.update_device}),
            route("/api/firmware-update", {"POST": self.update_all}),
        ]
        self.openapi: dict[tuple[str, str], Operation] = {
            ("/api/devices/{device_id}/firmware-update", "POST"): Operation(
                "Update the device's firmware (default: the newest release; owner only)",
                api.UpdateStarted,
                status=202,
                body=api.FirmwareUpdateRequest,
                errors=(403, 409),
                security=BEARER,
            ),
            ("/api/firmware-update", "POST"): Operation(
                "Update every device of the account (default: the newest release)",
                api.UpdatesStarted,
                status=202,
                body=api.FirmwareUpdateRequest,
                errors=(404,),
                security=BEARER,
            ),
        }

    # ---- routes (the owner) ----

    async def update_device(self, request: Request) -> Response:
        ctx = context_of(request)
        auth = await require_user(request)
        device_id = normalize_device_id(request.path_params["device_id"])
        if device_id is None:
            raise malformed_device_id()
        body = await read_body(request, api.FirmwareUpdateRequest, ctx.settings.max_body_bytes)
        async with ctx.db.write() as db:
            device = await devices.owned_device(db, auth.user.id, device_id)
            try:
                update = await service.start_update(
                    db, device, body.version, force=False, by="owner"
                )
            except service.FirmwareError as e:
                raise _api_error(e) from None
            record(
                db,
                event="firmware_update",
                outcome="success",
                user_id=auth.user.id,
                client_address=client_address(request),
                deviceId=device.device_id,
                version=update.version,
                state="requested",
                by="owner",
            )
        self._wake.set()
        return answer(api.UpdateStarted(update=service.update_json(update)), 202)

    async def update_all(self, request: Request) -> Response:
        ctx = context_of(request)
        auth = await require_user(request)
        body = await read_body(request, api.FirmwareUpdateRequest, ctx.settings.max_body_bytes)
        started: list[api.FirmwareUpdate] = []
        async with ctx.db.write() as db:
            for device in await devices.devices_of(db, auth.user.id):
                try:
                    update = await service.start_update(
                        db, device, body.version, force=False, by="owner"
                    )
                except service.FirmwareError as e:
                    if e.status == 409:
                        continue  # this one is updating already
                    raise _api_error(e) from None
                record(
                    db,
                    event="firmware_update",
                    outcome="success",
                    user_id=auth.user.id,
                    client_address=client_address(request),
                    deviceId=device.device_id,
                    version=update.version,
                    state="requested",
                    by="owner",
                )
                started.append(service.update_json(update))
        self._wake.set()
        return answer(api.UpdatesStarted(updates=started), 202)

    # ---- lifespan ----

    async def start(self, ctx: AppContext) -> None:
        self._ctx = ctx
        if ctx.primary:  # other workers' requests queue rows; this loop finds them (POLL_S)
            self._loop = asyncio.create_task(self._dispatch_forever(), name="firmware-updates")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop, *self._running.values()) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._running.clear()

    async def _dispatch_forever(self) -> None:
        while True:
            try:
                await self._dispatch()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("firmware update loop failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_S)

    async def _dispatch(self) -> None:
        assert self._ctx is not None
        async with self._ctx.db.read() as db:
            rows = await db.execute(
                select(FirmwareUpdate.id).where(FirmwareUpdate.state.not_in(service.FINAL))
            )
            waiting = [r for r in rows.scalars() if r not in self._running]
        for update_id in waiting:
            task = asyncio.create_task(self._run(update_id), name=f"firmware-{update_id}")
            self._running[update_id] = task
            task.add_done_callback(functools.partial(self._forget, update_id))

    def _forget(self, update_id: str, _task: asyncio.Task[None]) -> None:
        self._running.pop(update_id, None)

    # ---- one update ----

    async def _progress(
        self, update_id: str, state: str, progress: int | None = None, reason: str | None = None
    ) -> bool:
        """Record a state, and each new state (not each progress step) in the audit log.
        -> True when the update ended."""
        assert self._ctx is not None
        async with self._ctx.db.write() as db:
            update = await db.get(FirmwareUpdate, update_id)
            if update is None:
                return True  # the device went, and its updates with it
            before = update.state
            if not service.set_state(update, state, progress=progress, reason=reason):
                return update.state in service.FINAL
            if state != before:
                device = await db.get(Device, update.device_pk)
                record(
                    db,
                    event="firmware_update",
                    outcome="failure" if state in ("rolled_back", "failed") else "success",
                    user_id=device.user_id if device else None,
                    deviceId=device.device_id if device else None,
                    version=update.version,
                    state=state,
                    reason=reason,
                    by=update.started_by,
                )
            log.info("firmware update %s: %s %s", update_id, state, reason or "")
            return state in service.FINAL

    async def _run(self, update_id: str) -> None:
        assert self._ctx is not None
        async with self._ctx.db.read() as db:
            update = await db.get(FirmwareUpdate, update_id)
            device = await db.get(Device, update.device_pk) if update else None
            user = await db.get(User, device.user_id) if device else None
            release = await db.get(FirmwareRelease, update.version) if update else None
        if update is None or device is None or user is None:
            return
        if release is None:
            await self._progress(update_id, "failed", reason="the release was removed")
            return
        try:
            bundle = read_bundle(release.bundle)
        except ReleaseError as e:
            await self._progress(update_id, "failed", reason=f"stored release damaged: {e}")
            return
        prefix = device_prefix(user.username, device.device_id)
        offer = offer_payload(update_id, bundle, update.force)
        statuses: asyncio.Queue[dict] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def report(body: dict) -> None:  # from the session's paho callbacks, on this loop
            statuses.put_nowait(body)

        backend = self.broker.backend
        name = f"svc-ota-{secrets.token_hex(6)}"
        login = BrokerLogin(name, new_password(), name, session_rights(prefix))
        session = OtaSession(
            backend.broker_url,
            backend.ca_cert_pem,
            login,
            prefix,
            update_id,
            offer,
            bundle.files,
            int(bundle.manifest.get("chunk", 4096)),
            report,
        )
        # A put or delete that failed may still reach a paused broker later: the broker layer
        # deletes such names later (its stray service logins).
        strays: set[str] = self.broker.state.strays
        try:
            try:
                await backend.put_login(login)
            except Exception as e:  # noqa: BLE001 - logged; the login is removed later
                strays.add(name)
                log.warning("firmware update %s: no service login: %s", update_id, e)
                await asyncio.sleep(5)  # the loop tries again
                return
            try:
                await session.start()
            except Exception as e:  # noqa: BLE001 - logged; the loop tries again
                log.warning("firmware update %s: cannot reach the broker: %s", update_id, e)
                await asyncio.sleep(5)  # the loop tries again
                return
            self.sessions[update_id] = session
            if update.state == "requested":
                await self._progress(update_id, "offered")
            deadline = loop.time() + self.timeout_s
            while True:
                left = deadline - loop.time()
                try:
                    body = await asyncio.wait_for(statuses.get(), max(0.0, left))
                except TimeoutError:
                    await self._progress(
                        update_id,
                        "failed",
                        reason=f"no answer from the unit in {self.timeout_s:.0f} s",
                    )
                    return
                state = body.get("state")
                progress = body.get("progress")
                reason = body.get("reason")
                if not isinstance(state, str) or state not in service.STATES:
                    continue
                if await self._progress(
                    update_id,
                    state,
                    progress if isinstance(progress, int) else None,
                    reason if isinstance(reason, str) else None,
                ):
                    return
        finally:
            self.sessions.pop(update_id, None)
            with contextlib.suppress(Exception):
                await session.close()
            try:
                await backend.delete_login(name)
            except Exception:  # noqa: BLE001 - kept as a stray, removed later
                strays.add(name)
