"""Two backend instances on one PostgreSQL and one Mosquitto (the shape of docs/deploy.md), in
process: logins issued, rotated and ended on either instance, reconcile passes racing, and the
operator's requests carried out by exactly one instance."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from pooldesk_server.app import create_app
from pooldesk_server.broker.logins import device_login
from pooldesk_server.broker.service.config import POOLDESK_LOGIN_PREFIXES
from pooldesk_server.broker.service.extension import BrokerExtension
from pooldesk_server.db.engine import Database
from pooldesk_server.db.migrate import upgrade_to_head
from pooldesk_server.db.models import MqttLogin, User
from pooldesk_server.db.types import utcnow
from pooldesk_server.ops import accounts
from pooldesk_server.ops.requests import carry_out_pending, sweep_disabled
from tests.backend.conftest import make_settings
from tests.backend.helpers import device_id_for, login, register
from tests.backend.postgres import Cluster, postgres_cluster
from tests.broker.probe import Probe
from tests.broker.test_external_mosquitto import ADMIN_PASSWORD, stock_mosquitto  # noqa: F401


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with postgres_cluster() as c:
        yield c


@pytest.fixture
def database_url(cluster: Cluster) -> str:
    name = f"two_{uuid.uuid4().hex[:8]}"
    cluster.psql("postgres", f"CREATE DATABASE {name}")
    return cluster.url(name)


class Instance:
    def __init__(self, http: httpx.AsyncClient, extension: BrokerExtension, app) -> None:
        self.http, self.extension, self.app = http, extension, app
        self.published: list[object] = []

    @property
    def ctx(self):
        return self.app.state.ctx


async def _instances(
    database_url: str, tmp_path: Path, broker_port: int, stack: AsyncExitStack
) -> tuple[Instance, Instance]:
    database = Database(database_url)
    await upgrade_to_head(database)
    await database.dispose()
    made = []
    for n in (1, 2):
        settings = make_settings(
            database_url,
            tmp_path / f"instance{n}",
            broker_env={
                "POOLDESK_BROKER": "mosquitto",
                "MQTT_BROKER_URL": f"mqtt://127.0.0.1:{broker_port}",
                "MOSQUITTO_ADMIN_USER": "admin",
                "MOSQUITTO_ADMIN_PASSWORD": ADMIN_PASSWORD,
                "MOSQUITTO_ADMIN_PORT": str(broker_port),
                "POOLDESK_RECORDER": "0",
            },
        )
        extension = BrokerExtension(settings)
        app = create_app(settings, extensions=[extension])
        await stack.enter_async_context(app.router.lifespan_context(app))
        transport = httpx.ASGITransport(app=app, client=(f"203.0.113.{n}", 40000))
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://testserver")
        )
        instance = Instance(http, extension, app)

        async def note(event, instance=instance):
            instance.published.append(event)

        instance.ctx.events.subscribe(note)
        made.append(instance)
    return made[0], made[1]


async def _pooldesk_logins_at_broker(instance: Instance) -> set[str]:
    names = await instance.extension.backend.list_logins()
    return {n for n in names if n.startswith(POOLDESK_LOGIN_PREFIXES)}


async def _rows(instance: Instance) -> dict[str, str]:
    async with instance.ctx.db.read() as db:
        return dict((await db.execute(select(MqttLogin.mqtt_user, MqttLogin.broker_state))).all())


@pytest.fixture
async def two(database_url: str, tmp_path: Path, stock_mosquitto) -> AsyncIterator[tuple]:  # noqa: F811
    async with AsyncExitStack() as stack:
        yield await _instances(database_url, tmp_path, stock_mosquitto, stack)


async def test_issue_rotate_and_logout_racing_across_instances_leave_broker_equal_to_database(
    two: tuple[Instance, Instance],
):
    a, b = two
    account = await login(a.http, await register(a.http, "alice", device_id=device_id_for(1)))

    async def issue(instance: Instance) -> int:
        return (
            await instance.http.get("/api/auth/mqtt-credentials", headers=account.auth)
        ).status_code

    # Rotations of one session's login on both instances at once.
    codes = await asyncio.gather(*(issue(x) for _ in range(6) for x in (a, b)))
    assert set(codes) == {200}
    device = await a.http.post(
        f"/api/devices/{account.device_id}/credentials", headers=account.auth
    )
    assert device.status_code == 200
    # A logout on B while A issues again, while both reconcile.
    results = await asyncio.gather(
        issue(a),
        b.http.post("/api/auth/logout", headers=account.auth),
        a.extension.reconcile_once(),
        b.extension.reconcile_once(),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    await asyncio.gather(a.extension.reconcile_once(), b.extension.reconcile_once())

    rows = await _rows(a)
    assert set(rows.values()) == {"synced"}
    at_broker = await _pooldesk_logins_at_broker(a)
    assert at_broker == set(rows)  # nothing the database does not know, nothing missing
    assert [n for n in at_broker if n.startswith("app-")] == []  # the session ended
    creds = device.json()
    board = Probe(
        int(creds["brokerUrl"].rsplit(":", 1)[1]),
        creds["mqttUser"],
        creds["mqttPassword"],
        creds["clientId"],
    )
    assert await board.connect() == 0  # the device's login was never touched
    board.close()


async def test_an_operator_request_is_carried_out_by_exactly_one_instance(
    two: tuple[Instance, Instance],
):
    a, b = two
    account = await login(a.http, await register(a.http, "bob", device_id=device_id_for(2)))
    creds = (await b.http.get("/api/auth/mqtt-credentials", headers=account.auth)).json()
    dash = Probe(
        int(creds["brokerUrl"].rsplit(":", 1)[1]),
        creds["mqttUser"],
        creds["mqttPassword"],
        creds["clientId"],
    )
    assert await dash.connect() == 0
    a.published.clear()
    b.published.clear()
    ended = await accounts.disable_user(a.ctx.db, "bob")
    assert ended.sessions == 1
    assert ended.mqtt_logins == 1
    # Both instances poll; their loops run too. However it interleaves, one carries it out.
    done = await asyncio.gather(carry_out_pending(a.ctx), carry_out_pending(b.ctx))
    assert await dash.wait_disconnected(5)
    events = [e for e in a.published + b.published if type(e).__name__ == "AccountDisabled"]
    assert len(events) == 1
    assert sum(done) <= 1
    dash.close()


async def test_a_login_issued_just_after_a_disable_is_ended_by_the_sweep(
    two: tuple[Instance, Instance],
):
    a, _b = two
    await login(a.http, await register(a.http, "carol", device_id=device_id_for(3)))
    await accounts.disable_user(a.ctx.db, "carol")
    # A device credential whose request had passed its checks before the disable committed:
    # the login reaches the broker and its row says synced.
    late = device_login("carol", device_id_for(3), generation="late0001")
    await a.extension.backend.put_login(late)
    async with a.ctx.db.write() as db:
        user_id = await db.scalar(select(User.id).where(User.username == "carol"))
        db.add(
            MqttLogin(
                id=str(uuid.uuid4()),
                user_id=user_id,
                mqtt_user=late.username,
                client_id=late.client_id,
                kind="device",
                created_at=utcnow(),
                broker_state="synced",
            )
        )
    port = int(a.extension.backend.broker_url.rsplit(":", 1)[1])
    board = Probe.of(port, late)
    assert await board.connect() == 0
    assert await sweep_disabled(a.ctx) == 1
    assert await board.wait_disconnected(5)
    assert late.username not in await _pooldesk_logins_at_broker(a)
    board.close()


async def test_a_disable_made_while_no_server_runs_is_carried_out_when_one_starts(
    database_url: str,
    tmp_path: Path,
    stock_mosquitto,  # noqa: F811
):
    async with AsyncExitStack() as stack:
        a, _b = await _instances(database_url, tmp_path / "first", stock_mosquitto, stack)
        account = await login(a.http, await register(a.http, "dora", device_id=device_id_for(4)))
        creds = (await a.http.get("/api/auth/mqtt-credentials", headers=account.auth)).json()
    # Both servers are stopped; the operator disables the account.
    database = Database(database_url)
    try:
        await accounts.disable_user(database, "dora")
    finally:
        await database.dispose()
    dash = Probe(
        int(creds["brokerUrl"].rsplit(":", 1)[1]),
        creds["mqttUser"],
        creds["mqttPassword"],
        creds["clientId"],
    )
    assert await dash.connect() == 0  # nobody has told the broker yet
    async with AsyncExitStack() as stack:
        await _instances(database_url, tmp_path / "second", stock_mosquitto, stack)
        assert await dash.wait_disconnected(10), "the request waited for no server"
    dash.close()
