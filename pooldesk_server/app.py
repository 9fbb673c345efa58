"""The Starlette application: routes, error handlers, lifespan (migrations, extensions)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from pooldesk.core import api_types as api
from pooldesk_server.accounts.routes import operations as account_operations
from pooldesk_server.accounts.routes import routes as account_routes
from pooldesk_server.context import AppContext, context_of
from pooldesk_server.db.migrate import current_revision, head_revision, upgrade_to_head
from pooldesk_server.devices.routes import operations as device_operations
from pooldesk_server.devices.routes import routes as device_routes
from pooldesk_server.extensions import Extension
from pooldesk_server.http.contract import Operation, build_document
from pooldesk_server.http.errors import (
    ApiError,
    error_response,
    handle_api_error,
    handle_database_error,
    handle_http_exception,
    handle_unexpected,
)
from pooldesk_server.http.headers import SecurityHeaders
from pooldesk_server.http.responses import answer
from pooldesk_server.http.routing import ExactPathRouter, route
from pooldesk_server.maintenance import purge_forever
from pooldesk_server.ops.activity import watch_bursts
from pooldesk_server.ops.metrics import Metrics, MetricsMiddleware, metrics_endpoint
from pooldesk_server.ops.requests import carry_out_forever
from pooldesk_server.settings import Settings
from pooldesk_server.sharing.routes import operations as sharing_operations
from pooldesk_server.sharing.routes import routes as sharing_routes
from pooldesk_server.telemetry.routes import operations as telemetry_operations
from pooldesk_server.telemetry.routes import routes as telemetry_routes

log = logging.getLogger("pooldesk_server.app")


class SchemaOutOfDate(Exception):
    pass


# A readiness probe touches the database at most this often, however often it is asked.
READINESS_PROBE_SECONDS = 1.0


class DatabaseProbe:
    """`SELECT 1`, its answer kept for READINESS_PROBE_SECONDS; concurrent probes share one."""

    def __init__(self) -> None:
        self._checked_at = -float("inf")
        self._ok = False
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        return time.monotonic() - self._checked_at < READINESS_PROBE_SECONDS

    async def ok(self, ctx: AppContext) -> bool:
        if self._fresh():
            return self._ok
        async with self._lock:
            if not self._fresh():
                try:
                    # On SQLite on the loop's own connection: no thread hop for every waiting
                    # probe to queue behind on a busy machine.
                    await ctx.db.fetch(text("SELECT 1"))
                    self._ok = True
                except Exception:
                    log.exception("health check: database unreachable")
                    self._ok = False
                self._checked_at = time.monotonic()
        return self._ok


async def livez(_request: Request) -> Response:
    """Liveness: the process serves HTTP. Touches nothing (no database, no broker)."""
    return answer(api.Health(status="ok"))


async def healthz(request: Request) -> Response:
    """Readiness (also served as /readyz): 200 when the database answers and every extension's
    components (the broker, the recorder, the data folder's disk) are up; 503 naming what is
    down otherwise. The database is probed at most once a second and extension states come
    from their own periodic checks, so a probe is cheap however often it comes."""
    if not await request.app.state.database_probe.ok(context_of(request)):
        return error_response(503, "unavailable", "Database unreachable")
    components: dict[str, dict[str, Any]] = {"database": {"ok": True, "detail": "ok"}}
    for extension in request.app.state.extensions:
        report = getattr(extension, "health_report", None)
        if report is not None:
            components.update(report())
    down = sorted(name for name, state in components.items() if not state["ok"])
    if down:
        details = "; ".join(f"{name}: {components[name]['detail']}" for name in down)
        body = {
            "ok": False,
            "status": "unavailable",
            "components": components,
            "error": {"code": "unavailable", "message": f"Not ready: {details}"},
        }
        return JSONResponse(body, status_code=503)
    if len(components) == 1:  # no extension reports anything: the plain answer
        return answer(api.Health(status="ok"))
    typed = {
        name: api.Component(ok=s["ok"], detail=str(s["detail"])) for name, s in components.items()
    }
    return answer(api.Health(status="ok", components=typed))


async def openapi_document(request: Request) -> Response:
    return JSONResponse(request.app.state.openapi)


async def prepare_schema(ctx: AppContext) -> None:
    if ctx.settings.auto_migrate:
        await upgrade_to_head(ctx.db)
        return
    current, head = await current_revision(ctx.db), head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"Database schema is at {current or 'nothing'}, this version needs {head}: "
            "run `pooldesk-backend migrate` first"
        )


def core_operations() -> dict[tuple[str, str], Operation]:
    """The operation (summary and types) of every route the app serves without extensions."""
    readiness = Operation(
        "Readiness: database, broker, recorder (503 names what is down)",
        api.Health,
        error_answers={503: api.Unhealthy},
    )
    return {
        ("/livez", "GET"): Operation("Liveness: touches nothing", api.Health),
        ("/healthz", "GET"): readiness,
        ("/readyz", "GET"): readiness,
        ("/openapi.json", "GET"): Operation("This document", None),
        **account_operations,
        **device_operations,
        **telemetry_operations,
        **sharing_operations,
    }


def start_singleton_jobs(
    ctx: AppContext, on_burst: Callable[[str, int], None]
) -> tuple[asyncio.Task[None], asyncio.Task[None], asyncio.Task[None]]:
    """Housekeeping, operator requests and the activity watch: one process runs them."""
    settings = ctx.settings
    housekeeping = asyncio.create_task(
        purge_forever(
            ctx.db,
            failure_window_seconds=settings.login_failure_window_seconds,
            events=ctx.events,
            known_address_days=settings.known_address_days,
        ),
        name="pooldesk-housekeeping",
    )
    # Operator commands run in other processes; this server carries out their requests.
    operator = asyncio.create_task(carry_out_forever(ctx), name="pooldesk-operator")
    bursts = asyncio.create_task(
        watch_bursts(ctx.db, on_burst=on_burst, data_dir=settings.data_dir),
        name="pooldesk-activity",
    )
    return housekeeping, operator, bursts


def create_app(
    settings: Settings, *, extensions: Sequence[Extension] = (), primary: bool = True
) -> Starlette:
    """The app. `primary=False` (the other workers of `serve --workers N`) serves HTTP alone:
    housekeeping, operator requests and the activity watch run in the primary worker only, and
    extensions see `ctx.primary` (docs/backend.md "Several workers")."""
    ctx = AppContext.build(settings, primary=primary)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        started: list[Extension] = []
        housekeeping: asyncio.Task[None] | None = None
        operator: asyncio.Task[None] | None = None
        bursts: asyncio.Task[None] | None = None
        try:
            await prepare_schema(ctx)
            for extension in extensions:
                await extension.start(ctx)
                started.append(extension)
            if primary:
                housekeeping, operator, bursts = start_singleton_jobs(ctx, on_burst)
            # What start-up built (modules, compiled queries, the app) lives as long as the
            # process: out of the collector's way, a full collection walks only what requests
            # made since. Under load those pauses held every request 0.1-0.4 s (docs/backend.md).
            gc.collect()
            gc.freeze()
            yield
        finally:
            gc.unfreeze()
            for task in (operator, bursts):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if housekeeping is not None:
                housekeeping.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await housekeeping
            for extension in reversed(started):
                try:
                    await extension.stop()
                except Exception:
                    log.exception("extension %s failed to stop", extension.name)
            await ctx.touches.wait()
            await ctx.db.dispose()

    metrics = Metrics() if settings.metrics else None

    def on_burst(kind: str, _count: int) -> None:
        if metrics is not None:
            metrics.unusual.labels(kind).inc()

    routes: list[BaseRoute] = [
        route("/livez", {"GET": livez}),
        route("/healthz", {"GET": healthz}),
        route("/readyz", {"GET": healthz}),
        route("/openapi.json", {"GET": openapi_document}),
        *account_routes,
        *device_routes,
        *telemetry_routes,
        *sharing_routes,
    ]
    operations = core_operations()
    for extension in extensions:
        routes.extend(extension.routes)
        operations.update(extension.openapi)
    if metrics is not None:
        routes.append(route("/metrics", {"GET": metrics_endpoint}))
        operations[("/metrics", "GET")] = Operation(
            "Prometheus metrics (only with POOLDESK_METRICS=1)", None, media_type="text/plain"
        )

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers={
            ApiError: handle_api_error,
            HTTPException: handle_http_exception,
            OperationalError: handle_database_error,
            PoolTimeout: handle_database_error,
            Exception: handle_unexpected,
        },
    )
    # An API answers a stray trailing slash with a JSON 404, not a bodiless redirect.
    app.router = ExactPathRouter(routes, lifespan=lifespan, redirect_slashes=False)
    if metrics is not None:  # outermost: it times everything, error answers included
        app.add_middleware(MetricsMiddleware, metrics=metrics, router=app.router)
    app.state.metrics = metrics
    app.state.ctx = ctx
    app.state.extensions = list(extensions)
    app.state.database_probe = DatabaseProbe()
    app.state.openapi = build_document(routes, operations)
    return app
