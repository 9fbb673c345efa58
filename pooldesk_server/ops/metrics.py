"""`GET /metrics` in the Prometheus text format (only with POOLDESK_METRICS=1).

Each app has its own registry (tests build many apps in one process). Labels never carry a
user name, an id or a raw path: requests are counted per route template (`/api/devices/
{device_id}`), unmatched paths under one `unmatched` label. Sign-ins and issued credentials are
read from the answers of their routes, so the account and broker code stays free of metric
calls. Component and device gauges are read when scraped (one COUNT query and the broker
layer's cached health).
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pooldesk_server.context import context_of
from pooldesk_server.db.models import Device

SIGN_IN_ROUTE = "/api/auth/login"
SIGN_IN_OUTCOMES = {200: "ok", 401: "failed", 403: "refused", 429: "throttled"}
CREDENTIAL_ROUTES = {
    "/api/auth/mqtt-credentials": "dashboard",
    "/api/devices/{device_id}/credentials": "device",
}
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The app's registry and its instruments."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "pooldesk_http_requests",
            "HTTP requests answered, per route template, method and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "pooldesk_http_request_duration_seconds",
            "Time to answer an HTTP request, per route template and method",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.sign_ins = Counter(
            "pooldesk_sign_ins",
            "Sign-in attempts: ok, failed (wrong name or password), refused (account "
            "disabled), throttled (429)",
            ["outcome"],
            registry=r,
        )
        self.credentials = Counter(
            "pooldesk_mqtt_credentials_issued",
            "MQTT credentials issued (dashboard or device)",
            ["kind"],
            registry=r,
        )
        self.unusual = Counter(
            "pooldesk_unusual_activity",
            "Bursts of unusual activity noticed (the log line names the account)",
            ["kind"],
            registry=r,
        )
        self.component_up = Gauge(
            "pooldesk_component_up",
            "1 when the component is up (database, broker, recorder, disk), 0 when down",
            ["component"],
            registry=r,
        )
        self.devices = Gauge(
            "pooldesk_devices", "Registered devices per last known status", ["status"], registry=r
        )
        self.recorder_stored = Gauge(
            "pooldesk_recorder_stored_messages",
            "Device messages the in-process recorder stored since the server started",
            registry=r,
        )
        self.recorder_backlog = Gauge(
            "pooldesk_recorder_backlog_messages",
            "Device messages received by this instance's recorder and not yet being stored",
            registry=r,
        )
        self.recorder_lag = Gauge(
            "pooldesk_recorder_lag_seconds",
            "Age of the oldest message waiting in this instance's recorder (0 when none waits)",
            registry=r,
        )
        self.recorder_dropped = Gauge(
            "pooldesk_recorder_dropped_messages",
            "Device messages the recorder acknowledged without storing (unusable payloads)",
            registry=r,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)
        if route == SIGN_IN_ROUTE and method == "POST" and status in SIGN_IN_OUTCOMES:
            self.sign_ins.labels(SIGN_IN_OUTCOMES[status]).inc()
        kind = CREDENTIAL_ROUTES.get(route)
        if kind is not None and status == 200:
            self.credentials.labels(kind).inc()


def route_template(app: Any, scope: Scope) -> str:
    """The path template of the route that serves this request, or `unmatched`."""
    for route in app.routes:
        if isinstance(route, Route):
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return route.path
    return "unmatched"


class MetricsMiddleware:
    """Times every HTTP request and counts it under its route template."""

    def __init__(self, app: ASGIApp, metrics: Metrics, router: Any) -> None:
        self.app, self.metrics, self.router = app, metrics, router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            self.metrics.observe(
                route_template(self.router, scope),
                scope["method"],
                status,
                time.perf_counter() - started,
            )


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    ctx = context_of(request)
    database_up = 1
    try:
        async with ctx.db.read() as db:
            rows = await db.execute(select(Device.status, func.count()).group_by(Device.status))
            counts = {status: int(n) for status, n in rows.all()}
    except Exception:  # noqa: BLE001 - a scrape reports the database down, never fails
        database_up, counts = 0, {}
    for status in ("online", "offline", *counts):
        metrics.devices.labels(status).set(counts.get(status, 0))
    metrics.component_up.labels("database").set(database_up)
    for extension in request.app.state.extensions:
        report = getattr(extension, "health_report", None)
        if report is not None:
            for name, state in report().items():
                metrics.component_up.labels(name).set(1 if state["ok"] else 0)
        recorder = getattr(extension, "recorder", None)
        if recorder is not None:
            metrics.recorder_stored.set(getattr(recorder, "stored", 0))
            metrics.recorder_dropped.set(getattr(recorder, "dropped", 0))
            backlog = getattr(recorder, "backlog", None)
            if backlog is not None:
                waiting, lag = backlog()
                metrics.recorder_backlog.set(waiting)
                metrics.recorder_lag.set(lag)
    return Response(
        generate_latest(metrics.registry),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )
