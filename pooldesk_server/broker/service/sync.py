"""`pooldesk-backend broker sync`: make the broker hold exactly the PoolDesk logins the database
knows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from pooldesk_server.broker.managed import ManagedMosquitto
from pooldesk_server.broker.mosquitto import BrokerConfigError
from pooldesk_server.broker.rights import device_rights
from pooldesk_server.broker.service.config import POOLDESK_LOGIN_PREFIXES, SERVICE_LOGIN_PREFIXES
from pooldesk_server.broker.service.ledger import dashboard_rights_of
from pooldesk_server.broker.service.reconcile import Reconciler
from pooldesk_server.broker.service.state import BrokerState
from pooldesk_server.broker.store import HashedLogin
from pooldesk_server.context import AppContext
from pooldesk_server.db.models import Device, MqttLogin, User
from pooldesk_server.settings import Settings


@dataclass(frozen=True)
class SyncReport:
    deleted_at_broker: tuple[str, ...]  # PoolDesk logins the database did not know
    forgotten: tuple[str, ...]  # rows whose login the broker lost and could not get back
    still_pending: int
    restored: tuple[str, ...] = ()  # logins the broker lost, put back with their old password

    def as_text(self) -> str:
        return (
            f"removed {len(self.deleted_at_broker)} login(s) from the broker, "
            f"restored {len(self.restored)} login(s) the broker had lost, "
            f"forgot {len(self.forgotten)} login(s) it had lost (re-issue them), "
            f"{self.still_pending} change(s) still pending"
        )


async def sync(state: BrokerState, reconciler: Reconciler) -> SyncReport:
    """Make the broker hold exactly the PoolDesk logins the database knows.

    PoolDesk logins (named `app-`, `dev-`, `svc-`) the database does not know are removed
    from the broker; other logins of a shared broker are never touched. Logins the broker
    lost (its store was lost) are put back with their old password on the managed broker,
    from the hash in the row; elsewhere, or without a hash, the row is deleted so apps ask
    for new credentials and devices need theirs issued again.
    """
    ctx = state.app()
    backend = state.ready_backend()
    await reconciler.reconcile_once(abandoned_after_s=0)  # the server is stopped: nothing in flight
    at_broker = await backend.list_logins()
    async with ctx.db.read() as db:
        rows = {
            name: broker_state
            for name, broker_state in (
                await db.execute(select(MqttLogin.mqtt_user, MqttLogin.broker_state))
            ).all()
        }
    unknown = sorted(
        name
        for name in at_broker - set(rows)
        if name.startswith(POOLDESK_LOGIN_PREFIXES) and not name.startswith(SERVICE_LOGIN_PREFIXES)
    )
    for name in unknown:
        async with state.locks.hold(name):
            await backend.delete_login(name)
    if state.recorder is not None:  # the backend's own login, if the store lost it
        await backend.put_login(state.recorder.login)
    lost = sorted(n for n, s in rows.items() if s == "synced" and n not in at_broker)
    restored: list[str] = []
    if lost and isinstance(backend, ManagedMosquitto):
        hashed = await _hashed_logins(ctx, lost)
        if hashed:
            await backend.import_logins(hashed)
            restored = sorted(h.username for h in hashed)
    forgotten = [n for n in lost if n not in restored]
    if forgotten:
        async with ctx.db.write() as db:
            await db.execute(
                delete(MqttLogin)
                .where(MqttLogin.mqtt_user.in_(forgotten))
                .where(MqttLogin.broker_state == "synced")
            )
    return SyncReport(
        tuple(unknown), tuple(forgotten), await reconciler.reconcile_once(), tuple(restored)
    )


async def _hashed_logins(ctx: AppContext, names: list[str]) -> list[HashedLogin]:
    """The logins of these rows as the broker needs them, from their stored hashes."""
    async with ctx.db.read() as db:
        rows = (
            await db.execute(
                select(
                    MqttLogin.mqtt_user,
                    MqttLogin.client_id,
                    MqttLogin.kind,
                    MqttLogin.password_hash,
                    User.username,
                    Device.device_id,
                    MqttLogin.user_id,
                )
                .join(User, User.id == MqttLogin.user_id)
                .outerjoin(Device, Device.id == MqttLogin.device_id)
                .where(MqttLogin.mqtt_user.in_(names))
                .where(MqttLogin.password_hash.is_not(None))
            )
        ).all()
    logins = []
    for mqtt_user, client_id, kind, password_hash, username, device_id, user_id in rows:
        if password_hash is None:  # not selected: the query asks for a hash
            continue
        if kind in ("device", "transfer") and device_id is not None:
            rights = device_rights(username, device_id)
        elif kind == "session" and user_id is not None:
            async with ctx.db.read() as db:
                rights = await dashboard_rights_of(db, user_id)
        else:
            continue
        logins.append(HashedLogin(mqtt_user, client_id, rights, password_hash))
    return logins


async def run_sync(settings: Settings) -> SyncReport:
    """`pooldesk-backend broker sync`: rebuild the broker's logins from the database.

    With the managed broker the server must be stopped first (it owns the broker process).
    """
    from pooldesk_server.broker.service.extension import BrokerExtension
    from pooldesk_server.db.migrate import upgrade_to_head

    extension = BrokerExtension(settings)
    if extension.config_error:
        raise BrokerConfigError(extension.config_error)
    backend = extension.backend
    if isinstance(backend, ManagedMosquitto) and backend.running_elsewhere():
        raise BrokerConfigError(
            "the managed broker is running under `pooldesk-backend serve`; stop the server "
            "first (it reconciles pending changes by itself every 30 s)"
        )
    ctx = AppContext.build(settings)
    try:
        await upgrade_to_head(ctx.db)
        await backend.start()
        extension.state.ctx = ctx
        return await extension.sync()
    finally:
        await backend.stop()
        await ctx.db.dispose()
