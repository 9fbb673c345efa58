"""The real backend app in-process (SQLite, the broker and hand-over extensions on a managed
Mosquitto), accounts over HTTP, and simulated controllers running the unchanged firmware."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pooldesk_server.app import create_app
from pooldesk_server.broker.service.config import build_backend
from pooldesk_server.broker.service.extension import BrokerExtension
from pooldesk_server.transfers.extension import TransferExtension
from tests.backend.contract import ContractChecker, response_hook
from tests.broker.app_support import Backend, app_settings, probe_for
from tests.broker.conftest import backend_dir, data_dir  # noqa: F401
from tests.broker.probe import Probe

OPEN = ("offered", "moving")


class Hand(Backend):
    """The backend with hand-overs, and what a test needs around it."""

    def __init__(self, http: httpx.AsyncClient, broker: BrokerExtension, mover: TransferExtension):
        super().__init__(http, broker)
        self.mover = mover
        self.probes: list[Probe] = []

    async def binding(self, auth: dict[str, str], device_id: str, username: str) -> dict:
        r = await self.http.post(f"/api/devices/{device_id}/credentials", headers=auth)
        assert r.status_code == 200, r.text
        c = r.json()
        return {
            "ssid": "PoolNet",
            "password": "poolpass123",
            "broker_url": c["brokerUrl"],
            "mqtt_user": c["mqttUser"],
            "mqtt_password": c["mqttPassword"],
            "client_id": c["clientId"],
            "topic_prefix": c["topicPrefix"],
            "username": username,
            "ca_cert": c.get("caCert"),
        }

    async def dashboard(self, auth: dict[str, str], *subscriptions: str) -> Probe:
        probe = probe_for(await self.mqtt_credentials(auth))
        self.probes.append(probe)
        assert await probe.connect() == 0
        if subscriptions:
            assert await probe.subscribe(*subscriptions) == [1] * len(subscriptions)
        return probe

    async def offer(self, auth: dict, device_id: str, to: str, history: str = "keep") -> Any:
        return await self.http.post(
            f"/api/devices/{device_id}/transfer",
            json={"username": to, "history": history},
            headers=auth,
        )

    async def transfers(self, auth: dict) -> dict:
        r = await self.http.get("/api/transfers", headers=auth)
        assert r.status_code == 200, r.text
        return r.json()

    async def wait_transfer(
        self, auth: dict, transfer_id: str, statuses: tuple[str, ...], within: float = 30.0
    ) -> dict:
        deadline = time.monotonic() + within
        seen = None
        while time.monotonic() < deadline:
            both = await self.transfers(auth)
            seen = next(t for t in both["outgoing"] + both["incoming"] if t["id"] == transfer_id)
            if seen["status"] in statuses:
                return seen
            await asyncio.sleep(0.05)
        raise AssertionError(f"transfer not {statuses} within {within} s: {seen}")

    async def devices(self, auth: dict) -> list[dict]:
        r = await self.http.get("/api/devices", headers=auth)
        assert r.status_code == 200, r.text
        return r.json()["devices"]

    async def history(self, auth: dict, device_id: str) -> httpx.Response:
        return await self.http.get("/api/history", params={"deviceId": device_id}, headers=auth)

    async def switch(self, dash: Probe, prefix: str, on: bool, cmd_id: str) -> int:
        """Publish a pump/set from a dashboard (one login per session: asking for credentials
        again would rotate it and cut the other connection)."""
        return await dash.publish(f"{prefix}/pump/set", json.dumps({"cmd_id": cmd_id, "on": on}))


@contextlib.asynccontextmanager
async def open_hand(folder: Path) -> AsyncIterator[Hand]:
    """The app with the broker and hand-over extensions, started on `folder` (again after a
    stop: same database, same broker store)."""
    settings = app_settings(folder)
    broker = BrokerExtension(settings, build_backend(settings, env={}))
    mover = TransferExtension(settings, broker)
    app = create_app(settings, extensions=[broker, mover])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        # Every answer is checked against the server's own /openapi.json.
        hooks = {"response": [response_hook(ContractChecker(app.state.openapi))]}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", event_hooks=hooks
        ) as http:
            h = Hand(http, broker, mover)
            try:
                yield h
            finally:
                for p in h.probes:
                    p.close()


@pytest.fixture
async def hand(backend_dir: Path) -> AsyncIterator[Hand]:  # noqa: F811
    async with open_hand(backend_dir) as h:
        yield h
