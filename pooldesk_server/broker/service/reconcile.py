"""Account events, persisted broker jobs and the reconcile loop: the work that must reach the
broker eventually, whether or not it answers when asked."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update

from pooldesk_server.accounts.events import AccountEvent, RightsChanged
from pooldesk_server.broker.base import BrokerError, BrokerRejected
from pooldesk_server.broker.retained import (
    clear_retained,
    remove_stray_logins,
    retained_prefix_of,
)
from pooldesk_server.broker.service.config import (
    ABANDONED_PUT_S,
    INLINE_BUDGET_S,
    JOB_RETRY_MAX_S,
    RECONCILE_EVERY_S,
)
from pooldesk_server.broker.service.ledger import stale_session_login
from pooldesk_server.broker.service.lifecycle import BackendRunner
from pooldesk_server.broker.service.regrant import RightsRefresher
from pooldesk_server.broker.service.revoking import Revoker
from pooldesk_server.broker.service.state import BrokerState
from pooldesk_server.context import AppContext
from pooldesk_server.db.models import BrokerJob, Device, MqttLogin
from pooldesk_server.db.types import utcnow
from pooldesk_server.devices.service import mark_mqtt_logins_pending_delete
from pooldesk_server.http.errors import ApiError
from pooldesk_server.sharing.queries import REFRESH_RIGHTS

log = logging.getLogger("pooldesk_server.broker")


async def _prefix_owned_again(ctx: AppContext, prefix: str) -> bool:
    """Does a device own `prefix` (or one under it) now? A device removed while the broker was
    unreachable leaves a job to clear its prefix; added again meanwhile (same account, same
    prefix), its new retained state is its own and must not be wiped by the late job."""
    async with ctx.db.read() as db:
        owner = await db.scalar(
            select(Device.id)
            .where(
                or_(
                    Device.topic_prefix == prefix,
                    Device.topic_prefix.startswith(prefix + "/", autoescape=True),
                )
            )
            .limit(1)
        )
    return owner is not None


class Reconciler:
    def __init__(
        self,
        state: BrokerState,
        revoker: Revoker,
        refresher: RightsRefresher,
        runner: BackendRunner,
    ) -> None:
        self.state = state
        self.revoker = revoker
        self.refresher = refresher
        self.runner = runner
        self.loop_task: asyncio.Task[None] | None = None

    def start_loop(self, *, strays_only: bool = False) -> None:
        """The reconcile loop; `strays_only` in a worker other than the primary (`serve
        --workers N`): the primary reconciles, this worker only removes the service logins its
        own requests left at the broker (a put or delete that timed out)."""
        self.loop_task = asyncio.create_task(
            self._reconcile_forever(strays_only), name="broker-reconcile"
        )

    # ---- account events -----------------------------------------------------------------------

    async def on_account_event(self, event: AccountEvent) -> None:
        """Sessions, devices or the account ended: their logins go (their rows are already
        `pending_delete`), and the retained messages under a removed device's (or account's)
        topics are cleared (a `broker_jobs` row is written first).

        The request that published the event waits for that work at most `INLINE_BUDGET_S`:
        with a healthy broker it is done before the answer (revocation at once); with a broker
        that is paused or down the answer goes out anyway and the work goes on in the
        background, then in the reconcile loop, until it succeeds."""
        ctx = self.state.ctx
        if ctx is None:
            return
        if isinstance(event, RightsChanged):
            work = self.state.spawn(
                self._run_rights_jobs(ctx, event.usernames), "broker-rights-refresh"
            )
        else:
            if self.state.recorder is not None:
                self.state.recorder.forget_devices()
            prefix = retained_prefix_of(event)
            job_id = await self._add_job(ctx, "clear_retained", prefix) if prefix else None
            work = self.state.spawn(
                self._event_work(ctx, tuple(getattr(event, "mqtt_users", ())), job_id),
                "broker-event-work",
            )
        try:
            await asyncio.wait_for(asyncio.shield(work), INLINE_BUDGET_S)
        except TimeoutError:
            log.warning("the broker is slow to answer: finishing the revocation in the background")

    async def _run_rights_jobs(self, ctx: AppContext, usernames: tuple[str, ...]) -> None:
        """Run the `refresh_rights` jobs the change wrote with its commit (docs/sharing.md);
        what fails stays for the reconcile loop."""
        try:
            async with ctx.db.read() as db:
                job_ids = list(
                    await db.scalars(
                        select(BrokerJob.id).where(
                            BrokerJob.kind == REFRESH_RIGHTS, BrokerJob.target.in_(usernames)
                        )
                    )
                )
            for job_id in job_ids:
                await self._run_job(ctx, job_id)
        except Exception:  # the reconcile loop takes over
            log.exception("changing the rights of %d account(s) failed", len(usernames))

    async def _event_work(
        self, ctx: AppContext, mqtt_users: tuple[str, ...], job_id: str | None
    ) -> None:
        try:
            for mqtt_user in mqtt_users:
                await self.revoker.delete_now(ctx, mqtt_user)
            if job_id is not None:
                await self._run_job(ctx, job_id)
        except Exception:  # the reconcile loop takes over
            log.exception("broker work after an account event failed; retrying later")

    # ---- broker jobs (persisted, retried) -------------------------------------------------

    async def _add_job(self, ctx: AppContext, kind: str, target: str) -> str:
        job = BrokerJob.due_now(kind, target)
        async with ctx.db.write() as db:
            db.add(job)
        return job.id

    async def _run_job(self, ctx: AppContext, job_id: str) -> bool:
        """Try one job under its lock; True when it is done (or was done meanwhile)."""
        async with self.state.locks.hold(f"job:{job_id}"):
            async with ctx.db.read() as db:
                job = await db.get(BrokerJob, job_id)
            if job is None:
                return True
            if job.kind == "clear_retained" and await _prefix_owned_again(ctx, job.target):
                async with ctx.db.write() as db:
                    await db.execute(delete(BrokerJob).where(BrokerJob.id == job_id))
                log.info("not clearing %s: a device was added under it since", job.target)
                return True
            try:
                if job.kind == REFRESH_RIGHTS:
                    await self.refresher.refresh_dashboard_rights([job.target])
                    cleared = []
                elif job.kind == "clear_retained":
                    backend = self.state.ready_backend()
                    cleared = await clear_retained(backend, job.target, self.state.strays)
                else:
                    raise BrokerRejected(f"unknown broker job kind {job.kind!r}")
            except (BrokerError, ApiError) as error:
                delay = min(JOB_RETRY_MAX_S, RECONCILE_EVERY_S * 2 ** min(job.attempts, 10))
                async with ctx.db.write() as db:
                    await db.execute(
                        update(BrokerJob)
                        .where(BrokerJob.id == job_id)
                        .values(
                            attempts=BrokerJob.attempts + 1,
                            next_attempt_at=utcnow() + timedelta(seconds=delay),
                            last_error=str(error)[:500],
                        )
                    )
                log.warning("retained messages under %s not cleared yet: %s", job.target, error)
                return False
            async with ctx.db.write() as db:
                await db.execute(delete(BrokerJob).where(BrokerJob.id == job_id))
            if job.kind != REFRESH_RIGHTS:
                log.info("cleared %d retained message(s) under %s", len(cleared), job.target)
            return True

    async def _run_due_jobs(self, ctx: AppContext) -> int:
        """Run the jobs whose time has come; returns how many are still owed."""
        all_due, self.state.jobs_due_now = self.state.jobs_due_now, False
        async with ctx.db.read() as db:
            query = select(BrokerJob.id).order_by(BrokerJob.created_at)
            if not all_due:
                query = query.where(BrokerJob.next_attempt_at <= utcnow())
            due = list(await db.scalars(query))
        left = 0
        for job_id in due:
            if not await self._run_job(ctx, job_id):
                left += 1
        return left

    async def _remove_stray_service_logins(self) -> None:
        """Delete `svc-` logins whose put or delete timed out: a paused broker may have applied
        the put after all, and nobody would ever delete them."""
        state = self.state
        if not state.strays or state.backend is None or state.start_error:
            return
        try:
            await remove_stray_logins(state.backend, state.strays)
        except BrokerError as error:
            log.warning("%d stray service login(s) not removed yet: %s", len(state.strays), error)

    # ---- the loop --------------------------------------------------------------------------

    async def reconcile_once(self, abandoned_after_s: float = ABANDONED_PUT_S) -> int:
        """Finish pending deletions, remove logins of ended sessions, logins an issue abandoned
        (`pending_put` older than `abandoned_after_s`: a backend killed while issuing; their
        password was never handed out) and logins replaced by a newer one of the same owner (a
        device's once its latest log-in was with the newer one); returns how many deletions
        are still pending."""
        state = self.state
        ctx = state.app()
        if state.backend is not None and state.start_error:
            await self.runner.start_backend()
        elif (
            self.loop_task is not None and state.recorder is None and self.runner.recorder_wanted()
        ):
            await self.runner.start_recorder()  # it failed to start earlier (logged): try again
        await self._retire_abandoned_and_replaced(ctx, abandoned_after_s)
        jobs_left = await self._run_due_jobs(ctx)
        await self._remove_stray_service_logins()
        async with ctx.db.read() as db:
            pending = list(
                await db.scalars(
                    select(MqttLogin.mqtt_user).where(MqttLogin.broker_state == "pending_delete")
                )
            )
            stale = list(
                await db.scalars(select(MqttLogin.mqtt_user).where(stale_session_login(utcnow())))
            )
        left = 0
        for mqtt_user in pending:
            if not await self.revoker.delete_now(ctx, mqtt_user):
                left += 1
        for mqtt_user in stale:
            if not await self.revoker.end_stale_session_login(ctx, mqtt_user):
                left += 1
        if left:
            log.warning("%d MQTT login deletion(s) still pending; retrying", left)
        return left + jobs_left

    async def _retire_abandoned_and_replaced(
        self, ctx: AppContext, abandoned_after_s: float
    ) -> None:
        cutoff = utcnow() - timedelta(seconds=abandoned_after_s)
        async with ctx.db.write() as db:
            abandoned = await mark_mqtt_logins_pending_delete(
                db, MqttLogin.broker_state == "pending_put", MqttLogin.created_at <= cutoff
            )
            rows = (
                await db.execute(
                    select(
                        MqttLogin.mqtt_user,
                        MqttLogin.kind,
                        MqttLogin.session_id,
                        MqttLogin.device_id,
                        MqttLogin.created_at,
                    ).where(MqttLogin.broker_state == "synced")
                )
            ).all()
            newest: dict[tuple[str, str | None], tuple[Any, str]] = {}
            older: dict[tuple[str, str | None], list[str]] = {}
            devices: dict[str, list[tuple[Any, str]]] = {}  # pk -> (created_at, name) of each
            for name, kind, session_id, device_pk, created_at in rows:
                owner = (kind, session_id if kind == "session" else device_pk)
                if owner[1] is None or kind == "transfer":
                    continue  # a hand-over's logins: its mover retires them (transfers/service)
                if kind == "device" and device_pk is not None:
                    devices.setdefault(device_pk, []).append((created_at, name))
                    continue
                best = newest.get(owner)
                if best is None or (created_at, name) > best:
                    if best is not None:
                        older.setdefault(owner, []).append(best[1])
                    newest[owner] = (created_at, name)
                else:
                    older.setdefault(owner, []).append(name)
        several = {pk: logins for pk, logins in devices.items() if len(logins) > 1}
        retire = [name for names in older.values() for name in names]
        retire += await self._device_logins_replaced(ctx, several)
        replaced: tuple[str, ...] = ()
        if retire:
            async with ctx.db.write() as db:
                replaced = await mark_mqtt_logins_pending_delete(
                    db, MqttLogin.mqtt_user.in_(retire), MqttLogin.broker_state == "synced"
                )
        if abandoned or replaced:
            log.info(
                "retiring %d abandoned and %d replaced MQTT login(s)", len(abandoned), len(replaced)
            )

    async def _device_logins_replaced(
        self, ctx: AppContext, devices: dict[str, list[tuple[Any, str]]]
    ) -> list[str]:
        """Of the devices with several logins (pk -> (created_at, name) of each), the logins
        older than the one the device's latest log-in was with: they can go without cutting it
        off. A device whose new login never worked, or that went back to its old one (the user
        gave a wrong Wi-Fi password, or cancelled, and it returned to its stored settings),
        keeps the old one; a newer one it never used (a set-up run again and abandoned) does not
        keep the older ones alive.

        The managed broker's login plugin and `http-auth` say which login was used last; a back
        end that cannot tell (`mosquitto`, `hivemq-cloud`) falls back on the device having been
        heard from since its newest login was issued, which a device back on its old login also
        passes (a known gap, docs/mqtt.md)."""
        if not devices:
            return []
        backend = self.state.backend
        if backend is None or self.state.start_error:
            return []
        names = [name for logins in devices.values() for _at, name in logins]
        try:
            used = await backend.logins_used(names)
        except (BrokerError, ApiError) as error:
            log.warning("could not ask the broker which device logins are in use: %s", error)
            return []
        if used is not None:
            replaced: list[str] = []
            for logins in devices.values():
                latest = max(logins, key=lambda login: used.get(login[1], 0))
                if used.get(latest[1], 0) > 0:
                    replaced += [name for at, name in logins if (at, name) < latest]
            return replaced
        async with ctx.db.read() as db:
            seen = dict(
                (
                    await db.execute(
                        select(Device.id, Device.last_seen).where(Device.id.in_(list(devices)))
                    )
                ).all()
            )
        replaced = []
        for pk, logins in devices.items():
            newest = max(logins)
            if seen.get(pk) is not None and seen[pk] > newest[0]:
                replaced += [name for at, name in logins if (at, name) < newest]
        return replaced

    async def _reconcile_forever(self, strays_only: bool = False) -> None:
        while True:
            try:
                if strays_only:
                    await self._remove_stray_service_logins()
                else:
                    await self.reconcile_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not end the loop
                log.exception("broker reconciliation failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.state.wake.wait(), RECONCILE_EVERY_S)
            self.state.wake.clear()
