"""The real backend app with the broker extension, for tests: accounts over HTTP, the managed
Mosquitto behind it, and helpers to connect with the credentials it hands out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from sqlalchemy import select

from pooldesk_server.app import create_app
from pooldesk_server.broker.managed import ManagedMosquitto
from pooldesk_server.broker.service.extension import BrokerExtension
from pooldesk_server.db.models import MqttLogin
from pooldesk_server.settings import Settings
from tests.broker.probe import Probe

PASSWORD = "SecurePass123!@#"


def app_settings(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite+aiosqlite:///{data_dir / 'pooldesk.db'}",
        jwt_secret="test-secret-" + "x" * 64,
        argon2_memory_kib=64,
        argon2_time_cost=1,
    )


class Backend:
    def __init__(self, http: httpx.AsyncClient, extension: BrokerExtension) -> None:
        self.http, self.extension = http, extension

    @property
    def broker(self) -> ManagedMosquitto:
        backend = self.extension.backend
        assert isinstance(backend, ManagedMosquitto)
        return backend

    async def account(self, username: str, device_id: str) -> dict[str, str]:
        registered = await self.http.post(
            "/api/auth/register",
            json={
                "username": username,
                "email": f"{username}@example.com",
                "password": PASSWORD,
                "deviceId": device_id,
            },
        )
        assert registered.status_code == 201, registered.text
        return await self.sign_in(username)

    async def sign_in(self, username: str) -> dict[str, str]:
        answer = await self.http.post(
            "/api/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    async def mqtt_credentials(self, auth: dict[str, str]) -> dict:
        answer = await self.http.get("/api/auth/mqtt-credentials", headers=auth)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def rows(self) -> dict[str, str]:
        ctx = self.extension.state.ctx
        async with ctx.db.read() as db:
            return dict(
                (await db.execute(select(MqttLogin.mqtt_user, MqttLogin.broker_state))).all()
            )


async def open_backend(
    data_dir: Path, extension: BrokerExtension, client: str = "127.0.0.1", *, primary: bool = True
) -> AsyncIterator[Backend]:
    """The app over HTTP; requests come from `client` (by default this machine, like the
    desktop app next to its server). `primary=False`: another worker of `serve --workers N`,
    reaching the broker the primary runs on the same data folder."""
    app = create_app(extension.settings, extensions=[extension], primary=primary)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(client, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield Backend(http, extension)


def probe_for(creds: dict, **kw) -> Probe:
    port = int(creds["brokerUrl"].rsplit(":", 1)[1])
    return Probe(port, creds["mqttUser"], creds["mqttPassword"], creds["clientId"], **kw)
