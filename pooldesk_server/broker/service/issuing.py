"""The issuing state machine: record the new login (`pending_put`), put it at the broker,
confirm it (`synced`) while its owner is still alive, then retire the logins it replaces (a
session's at once; a device's once its latest log-in was with the new one: reconcile.py)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request

from pooldesk_contract.refusals import Reason
from pooldesk_server.audit.service import record
from pooldesk_server.broker.base import BrokerBackend, BrokerError, BrokerLogin
from pooldesk_server.broker.managed import ManagedMosquitto
from pooldesk_server.broker.rights import Rights
from pooldesk_server.broker.service.ledger import (
    dashboard_rights_of,
    insert_pending_put,
    over_session_cap,
    session_alive,
    set_state,
    stale_session_login,
)
from pooldesk_server.broker.service.revoking import Revoker
from pooldesk_server.broker.service.settling import put_until_settled
from pooldesk_server.broker.service.state import BrokerState, broker_unavailable
from pooldesk_server.broker.store import HashedLogin
from pooldesk_server.context import AppContext, client_address, context_of
from pooldesk_server.db import rows_changed
from pooldesk_server.db.models import MqttLogin
from pooldesk_server.db.types import utcnow
from pooldesk_server.devices.service import issue_api_key, mark_mqtt_logins_pending_delete
from pooldesk_server.http.errors import not_found, unauthorized

log = logging.getLogger("pooldesk_server.broker")


class Issuer:
    def __init__(self, state: BrokerState, revoker: Revoker) -> None:
        self.state = state
        self.revoker = revoker

    async def issue(
        self,
        request: Request,
        login: BrokerLogin,
        *,
        kind: str,
        user_id: str,
        session_id: str | None,
        device_pk: str | None,
        device: Any = None,
    ) -> str | None:
        """Record, put at the broker, confirm, then retire the login(s) it replaces (a device's
        later: see the module's docstring). Returns the device's new API key if a device.

        Every issue makes a login under a new name (same client id), so a failure before the
        confirmation (broker paused or down, timeout) leaves the working login untouched: only
        the new row turns `pending_delete`, and the reconcile loop removes a login nobody was
        given. The confirmation requires the session (or device) to be alive at that moment, so
        a logout racing the issue never leaves a working login behind."""
        ctx = context_of(request)
        backend = self.state.ready_backend()
        async with self.state.locks.hold(login.username):
            try:
                password_hash = await insert_pending_put(
                    ctx, login, kind, user_id=user_id, session_id=session_id, device_pk=device_pk
                )
            except IntegrityError:
                gone = Reason.SESSION_NOT_FOUND if kind == "session" else Reason.DEVICE_NOT_FOUND
                raise not_found("This device or session no longer exists", reason=gone) from None
            try:
                if kind == "session":
                    # Read after the row exists: a share change committed from now on finds
                    # this login and re-puts it. The lock orders puts in this process only:
                    # another's may land before ours, so ours is followed by a read of the
                    # rights and put again if they changed (settling.py).
                    await put_until_settled(
                        login.username,
                        lambda: self._dashboard_rights(ctx, user_id),
                        lambda rights: self._put(
                            backend, replace(login, rights=rights), password_hash
                        ),
                    )
                else:
                    await self._put(backend, login, password_hash)
            except BrokerError as error:
                await set_state(ctx, login.username, "pending_delete")
                log.warning(
                    "issuing %s failed (the login it would replace is kept): %s",
                    login.username,
                    error,
                )
                raise broker_unavailable(error) from None
            api_key = None
            replaced: tuple[str, ...] = ()
            async with ctx.db.write() as db:
                owner_alive = (
                    session_alive(utcnow())
                    if kind == "session"
                    else MqttLogin.device_id.is_not(None)
                )
                confirmed = await db.execute(
                    update(MqttLogin)
                    .where(MqttLogin.mqtt_user == login.username)
                    .where(MqttLogin.broker_state == "pending_put")
                    .where(owner_alive)
                    .values(broker_state="synced")
                    .execution_options(synchronize_session=False)
                )
                if rows_changed(confirmed) == 1 and kind == "session":
                    # The user's oldest app logins beyond the cap go, and the session's earlier
                    # one. A device's earlier login stays until the device's latest log-in is
                    # with this one (the reconcile loop retires it then): until the device stored
                    # its new settings it may go back to the old ones (docs/mqtt.md, "Rotation").
                    replaced += await over_session_cap(db, user_id, self.state.max_sessions)
                    replaced += await mark_mqtt_logins_pending_delete(
                        db,
                        MqttLogin.session_id == session_id,
                        MqttLogin.kind == kind,
                        MqttLogin.mqtt_user != login.username,
                        MqttLogin.broker_state == "synced",
                    )
                if rows_changed(confirmed) == 1:
                    if device is not None:
                        api_key = await issue_api_key(db, device)
                    record(
                        db,
                        event="credential_issue",
                        outcome="success",
                        user_id=user_id,
                        client_address=client_address(request),
                        kind=kind,
                        mqttUser=login.username,
                    )
            if rows_changed(confirmed) != 1:
                # The session or device ended while we were issuing: undo at the broker.
                await set_state(ctx, login.username, "pending_delete")
                await self.revoker.delete_locked(ctx, login.username)
        if rows_changed(confirmed) != 1:
            if device is not None:
                raise not_found(
                    "This device was removed from your account meanwhile",
                    reason=Reason.DEVICE_NOT_FOUND,
                )
            # The session's earlier logins go too, even if no event announced its end.
            async with ctx.db.read() as db:
                earlier = list(
                    await db.scalars(
                        select(MqttLogin.mqtt_user)
                        .where(MqttLogin.session_id == session_id)
                        .where(stale_session_login(utcnow()))
                    )
                )
            for name in earlier:
                await self.revoker.end_stale_session_login(ctx, name)
            raise unauthorized("This session has ended; sign in again")
        for name in replaced:  # the rotation is confirmed: the old password stops working now
            await self.revoker.delete_now(ctx, name)
        return api_key

    @staticmethod
    async def _dashboard_rights(ctx: AppContext, user_id: str) -> Rights:
        async with ctx.db.read() as db:
            return await dashboard_rights_of(db, user_id)

    @staticmethod
    async def _put(backend: BrokerBackend, login: BrokerLogin, password_hash: str) -> None:
        if isinstance(backend, ManagedMosquitto) and backend.rights_change_in_place:
            # The row's own hash: a later change of rights re-puts the same one, which the
            # plugin does not take for a new password (no needless disconnection).
            await backend.put_login(
                HashedLogin(login.username, login.client_id, login.rights, password_hash)
            )
        else:
            await backend.put_login(login)
