"""New rights for the live dashboard logins of accounts whose shares changed (docs/sharing.md)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from sqlalchemy import select

from pooldesk_server.broker.base import BrokerError, BrokerRejected, BrokerUnavailable
from pooldesk_server.broker.managed import ManagedMosquitto
from pooldesk_server.broker.rights import Rights
from pooldesk_server.broker.service.ledger import dashboard_rights_of, set_state
from pooldesk_server.broker.service.revoking import Revoker
from pooldesk_server.broker.service.settling import put_until_settled
from pooldesk_server.broker.service.state import BrokerState
from pooldesk_server.broker.store import HashedLogin
from pooldesk_server.context import AppContext
from pooldesk_server.db.models import MqttLogin, User

log = logging.getLogger("pooldesk_server.broker")


class RightsRefresher:
    def __init__(self, state: BrokerState, revoker: Revoker) -> None:
        self.state = state
        self.revoker = revoker

    async def refresh_dashboard_rights(self, usernames: Sequence[str]) -> None:
        """Give the dashboard logins of these accounts the rights their shares give now
        (docs/sharing.md): call it after committing a change of shares (a `RightsChanged`
        event does). Each login keeps its password, on every back end: the managed broker's
        login plugin takes the row's password hash, the others change the login's rights
        alone (`BrokerBackend.change_rights`). A login that lost a right has its live
        connections cut at once (the app reconnects with the same credentials); one that only
        gained keeps them. Only where the change cannot be made (the broker does not answer,
        or no longer has the login) is the login ended instead (pending deletion, the reconcile
        loop finishes it): a narrowing is never left undone, and the app, refused, fetches new
        credentials with the new rights. Each put is followed by a read of the rights, and put
        again if they changed meanwhile: another process's refresh or issue of the same login
        may have landed first with newer rights (settling.py)."""
        ctx = self.state.ctx
        if ctx is None or not usernames:
            return
        async with ctx.db.read() as db:
            rows = (
                await db.execute(
                    select(MqttLogin.mqtt_user, MqttLogin.client_id, MqttLogin.user_id)
                    .join(User, User.id == MqttLogin.user_id)
                    .where(User.username.in_(list(usernames)), MqttLogin.kind == "session")
                    .where(MqttLogin.broker_state.in_(("synced", "pending_put")))
                    .order_by(MqttLogin.mqtt_user)
                )
            ).all()
        for mqtt_user, _client_id, user_id in rows:
            if user_id is None:
                continue  # the account is gone: its logins are being deleted
            async with self.state.locks.hold(mqtt_user):
                try:
                    await put_until_settled(
                        mqtt_user,
                        partial(self._current, ctx, mqtt_user, user_id),
                        self._put,
                    )
                    continue
                except BrokerError as error:
                    log.warning("rights of %s not changed in place: %s", mqtt_user, error)
                await set_state(ctx, mqtt_user, "pending_delete")
                await self.revoker.delete_locked(ctx, mqtt_user)

    @staticmethod
    async def _current(ctx: AppContext, mqtt_user: str, user_id: str) -> Current | None:
        """The login as the broker must have it now; None once it is ending (or gone)."""
        async with ctx.db.read() as db:
            rights = await dashboard_rights_of(db, user_id)
            row = (
                await db.execute(
                    select(MqttLogin.client_id, MqttLogin.password_hash).where(
                        MqttLogin.mqtt_user == mqtt_user,
                        MqttLogin.broker_state.in_(("synced", "pending_put")),
                    )
                )
            ).first()
        return None if row is None else Current(mqtt_user, row.client_id, rights, row.password_hash)

    async def _put(self, login: Current) -> None:
        """Give the login its rights, keeping its password; a `BrokerError` where that cannot
        be done (the caller ends the login instead)."""
        backend = self.state.backend
        if isinstance(backend, ManagedMosquitto) and backend.rights_change_in_place:
            if not login.password_hash:
                raise BrokerRejected("its row keeps no password hash to put it again with")
            await backend.put_login(
                HashedLogin(login.username, login.client_id, login.rights, login.password_hash)
            )
        elif backend is None or self.state.start_error:
            raise BrokerUnavailable(self.state.start_error or "no broker configured")
        elif not await backend.change_rights(login.username, login.rights):
            raise BrokerRejected("the broker has no such login")


@dataclass(frozen=True)
class Current:
    """A dashboard login as its row and the shares give it now."""

    username: str
    client_id: str
    rights: Rights
    password_hash: str | None
