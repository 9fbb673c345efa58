"""The health of the broker layer, checked every `HEALTH_EVERY_S` and cached, so a `/healthz`
probe costs nothing.

With `serve --workers N` only the primary worker runs the broker and the recorder: it also writes
its report to `<data dir>/health.json` after every check, and the other workers answer `/healthz`
from that file (pooldesk_server/broker/health_report.py; read again as soon as it is replaced,
and at least once a second). A report older than `STALE_AFTER_S` (the primary is
stuck or being replaced) reads as the broker being down."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from pooldesk_server.broker.base import BrokerError
from pooldesk_server.broker.health_report import (
    REPORT_FILE,
    Components,
    read_report,
    report_stamp,
    write_report,
)
from pooldesk_server.broker.service.config import HEALTH_EVERY_S, HEALTH_TIMEOUT_S, MIN_FREE_BYTES
from pooldesk_server.broker.service.lifecycle import BackendRunner
from pooldesk_server.broker.service.state import BrokerState

log = logging.getLogger("pooldesk_server.broker")

STALE_AFTER_S = 3 * HEALTH_EVERY_S + HEALTH_TIMEOUT_S
READ_EVERY_S = 1.0


class HealthMonitor:
    def __init__(self, state: BrokerState, runner: BackendRunner) -> None:
        self.state = state
        self.runner = runner
        self._health: dict[str, dict[str, Any]] = {}

        self._shared: Components = {}
        self._shared_read_at = -float("inf")
        self._shared_stamp: tuple[int, int, int] | None = None

    @property
    def _primary(self) -> bool:
        return self.state.ctx is None or self.state.ctx.primary

    @property
    def _report_path(self) -> Path:
        return self.state.settings.data_dir / REPORT_FILE

    def report(self) -> dict[str, dict[str, Any]]:
        """Components and their state: `{"broker": {"ok": bool, "detail": str}, ...}`.

        The broker's and the disk's states are those of the last check (every
        `HEALTH_EVERY_S`); the recorder's is live (connected and subscribed). In a worker other
        than the primary: the primary's last written report."""
        if not self._primary:
            return self._with_own_connection(self._primary_report())
        report = dict(self._health)
        if self.runner.recorder_wanted():
            recorder = self.state.recorder
            if recorder is None:
                report["recorder"] = {"ok": False, "detail": "not started"}
            elif recorder.connected:
                report["recorder"] = {"ok": True, "detail": "subscribed"}
            else:
                report["recorder"] = {"ok": False, "detail": "not connected to the broker"}
        return report

    def _with_own_connection(self, report: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The primary's report, but the broker down if this worker cannot reach it: its
        credential requests fail, whatever the primary sees."""
        own_error = self.state.config_error or self.state.start_error
        broker = report.get("broker")
        if not own_error or (broker is not None and not broker.get("ok")):
            return report
        detail = f"this worker (pid {os.getpid()}) cannot reach the broker: {own_error}"
        return {**report, "broker": {"ok": False, "detail": detail}}

    def _primary_report(self) -> Components:
        """Read again once a second (a report grows stale without being rewritten), and at
        once when the file was replaced: the supervisor's "the primary exited" is served by
        the next request, not up to a second later."""
        now = time.monotonic()
        stamp = report_stamp(self._report_path)
        if stamp == self._shared_stamp and now - self._shared_read_at < READ_EVERY_S:
            return self._shared
        self._shared_read_at, self._shared_stamp = now, stamp
        age, components = read_report(self._report_path)
        if age > STALE_AFTER_S:
            since = "ever" if age == float("inf") else f"{age:.0f} s"
            detail = f"no report from the primary worker (which runs the broker) for {since}"
            components = {"broker": {"ok": False, "detail": detail}}
        self._shared = components
        return components

    def _write_report(self) -> None:
        """For the other workers (`serve --workers N`): this report."""
        write_report(self.state.settings.data_dir, self.report())

    async def check(self) -> None:
        if not self._primary:  # reach the primary's broker if not yet (it may be restarting)
            state = self.state
            if state.backend is not None and not state.config_error and not self.runner.attached:
                await self.runner.attach_backend()
            return
        await self._check_here()
        if self.state.settings.workers > 1:
            await asyncio.to_thread(self._write_report)

    async def _check_here(self) -> None:
        state = self.state
        health: dict[str, dict[str, Any]] = {}
        if state.backend is None or state.config_error:
            health["broker"] = {"ok": False, "detail": state.config_error or "not configured"}
        elif state.start_error:
            health["broker"] = {"ok": False, "detail": state.start_error}
        else:
            try:
                found = await asyncio.wait_for(state.backend.health(), HEALTH_TIMEOUT_S)
                health["broker"] = {"ok": found.ok, "detail": found.detail}
            except (TimeoutError, BrokerError) as error:
                health["broker"] = {"ok": False, "detail": str(error) or "no answer in time"}
        try:
            free = (await asyncio.to_thread(shutil.disk_usage, state.settings.data_dir)).free
        except OSError as error:
            health["disk"] = {"ok": False, "detail": str(error)}
        else:
            low = free < MIN_FREE_BYTES
            health["disk"] = {
                "ok": not low,
                "detail": f"{free // 2**20} MiB free" + (" (too little)" if low else ""),
            }
        was_ok = self._health.get("broker", {}).get("ok", True)
        self._health = health
        if health["broker"]["ok"] and not was_ok:  # back: retry what is owed now, not later
            log.info("MQTT broker answers again; retrying pending broker work")
            state.jobs_due_now = True
            state.wake.set()

    async def check_forever(self) -> None:
        while True:
            await asyncio.sleep(HEALTH_EVERY_S)
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("health check failed")
