"""`BrokerExtension`: the broker layer as one backend extension (`pooldesk_server/extensions.py`),
wiring its parts together (see this package's docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pooldesk_server.accounts.events import AccountEvent
from pooldesk_server.broker.base import BrokerBackend
from pooldesk_server.broker.service.config import ABANDONED_PUT_S
from pooldesk_server.broker.service.handlers import CredentialHandlers
from pooldesk_server.broker.service.health import HealthMonitor
from pooldesk_server.broker.service.issuing import Issuer
from pooldesk_server.broker.service.lifecycle import BackendRunner
from pooldesk_server.broker.service.reconcile import Reconciler
from pooldesk_server.broker.service.regrant import RightsRefresher
from pooldesk_server.broker.service.revoking import Revoker
from pooldesk_server.broker.service.routes import credential_routes
from pooldesk_server.broker.service.state import BrokerState
from pooldesk_server.broker.service.sync import SyncReport, sync
from pooldesk_server.context import AppContext
from pooldesk_server.settings import Settings

if TYPE_CHECKING:
    from pooldesk_server.recorder.recorder import Recorder

log = logging.getLogger("pooldesk_server.broker")


class BrokerExtension:
    name = "broker"

    def __init__(self, settings: Settings, backend: BrokerBackend | None = None) -> None:
        self.settings = settings
        self.state = BrokerState(settings, backend)
        self.runner = BackendRunner(self.state)
        self.revoker = Revoker(self.state)
        self.refresher = RightsRefresher(self.state, self.revoker)
        self.reconciler = Reconciler(self.state, self.revoker, self.refresher, self.runner)
        self.health = HealthMonitor(self.state, self.runner)
        self.handlers = CredentialHandlers(self.state, Issuer(self.state, self.revoker))
        self.routes, self.openapi = credential_routes(self.handlers, self.state.backend)
        self._health_task: asyncio.Task[None] | None = None

    @property
    def config_error(self) -> str | None:
        """Why the configured broker back end could not be built (bad settings), if so."""
        return self.state.config_error

    @property
    def backend(self) -> BrokerBackend:
        """The back end, or a 503 saying why there is none."""
        return self.state.configured_backend()

    @property
    def recorder(self) -> Recorder | None:
        return self.state.recorder

    @property
    def max_sessions(self) -> int:
        return self.state.max_sessions

    @max_sessions.setter
    def max_sessions(self, value: int) -> None:
        self.state.max_sessions = value

    # ---- lifespan ----------------------------------------------------------------------------

    async def start(self, ctx: AppContext) -> None:
        state = self.state
        state.ctx = ctx
        if state.config_error:
            log.error("MQTT broker not configured: %s", state.config_error)
        elif state.backend is not None and ctx.primary:
            await self.runner.start_backend()
        elif state.backend is not None:  # another worker runs the broker and the recorder
            await self.runner.attach_backend()
        ctx.events.subscribe(self.on_account_event)
        self.reconciler.start_loop(strays_only=not ctx.primary)
        await self.health.check()
        self._health_task = asyncio.create_task(self.health.check_forever(), name="broker-health")

    async def stop(self) -> None:
        if self.state.ctx is not None:
            with contextlib.suppress(ValueError):
                self.state.ctx.events.unsubscribe(self.on_account_event)
        for task in (self.reconciler.loop_task, self._health_task, *self.state.background):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.runner.stop()

    # ---- what the app, the CLI and the other extensions call ---------------------------------

    def health_report(self) -> dict[str, dict[str, Any]]:
        """The cached health of the broker, the disk and the recorder (`/healthz`)."""
        return self.health.report()

    async def on_account_event(self, event: AccountEvent) -> None:
        await self.reconciler.on_account_event(event)

    async def refresh_dashboard_rights(self, usernames: Sequence[str]) -> None:
        await self.refresher.refresh_dashboard_rights(usernames)

    async def reconcile_once(self, abandoned_after_s: float = ABANDONED_PUT_S) -> int:
        return await self.reconciler.reconcile_once(abandoned_after_s)

    def reconcile_soon(self) -> None:
        """Cut the reconcile loop's wait short (work was left pending)."""
        self.state.wake.set()

    async def sync(self) -> SyncReport:
        return await sync(self.state, self.reconciler)


def create_extension(settings: Settings) -> BrokerExtension:
    return BrokerExtension(settings)
