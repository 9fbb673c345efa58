"""The health of the broker layer, checked every `HEALTH_EVERY_S` and cached, so a `/healthz`
probe costs nothing."""

from __future__ import annotations

import asyncio
import logging
import shutil
from typing import Any

from pooldesk_server.broker.base import BrokerError
from pooldesk_server.broker.service.config import HEALTH_EVERY_S, HEALTH_TIMEOUT_S, MIN_FREE_BYTES
from pooldesk_server.broker.service.lifecycle import BackendRunner
from pooldesk_server.broker.service.state import BrokerState

log = logging.getLogger("pooldesk_server.broker")


class HealthMonitor:
    def __init__(self, state: BrokerState, runner: BackendRunner) -> None:
        self.state = state
        self.runner = runner
        self._health: dict[str, dict[str, Any]] = {}

    def report(self) -> dict[str, dict[str, Any]]:
        """Components and their state: `{"broker": {"ok": bool, "detail": str}, ...}`.

        The broker's and the disk's states are those of the last check (every
        `HEALTH_EVERY_S`); the recorder's is live (connected and subscribed)."""
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

    async def check(self) -> None:
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
