"""Fixtures: a real managed Mosquitto per test, two tenants with two devices each, probe clients."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pooldesk_server.broker.base import BrokerLogin
from pooldesk_server.broker.logins import dashboard_login, device_login, recorder_login
from pooldesk_server.broker.managed import ManagedMosquitto
from pooldesk_server.broker.ramstore import ram_path
from pooldesk_server.broker.service.config import build_backend
from pooldesk_server.broker.service.extension import BrokerExtension
from tests.broker.app_support import Backend, app_settings, open_backend
from tests.broker.probe import Probe


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A data folder the `mosquitto` user can reach (pytest's tmp_path is 0700), so the broker
    runs with dropped privileges as it would in production."""
    root = Path(tempfile.mkdtemp(prefix="pooldesk-broker-"))
    os.chmod(root, 0o711)  # noqa: S103 - traverse only, no listing: what mosquitto needs
    try:
        yield root / "data"
    finally:
        shutil.rmtree(root, ignore_errors=True)
        for broker_dir in (root / "data", root / "data" / "broker"):  # a backend's broker
            shutil.rmtree(ram_path(broker_dir), ignore_errors=True)  # left by a crashed broker


@pytest.fixture
async def broker(data_dir: Path) -> AsyncIterator[ManagedMosquitto]:
    managed = ManagedMosquitto(data_dir, websockets=True)  # the matrix runs over ws too
    await managed.start()
    try:
        yield managed
    finally:
        await managed.stop()


@dataclass
class Tenant:
    username: str
    dashboard: BrokerLogin
    devices: dict[str, BrokerLogin]  # lower-case device id -> login

    def prefix(self, device_id: str) -> str:
        return f"users/{self.username}/devices/{device_id}"


@dataclass
class World:
    alice: Tenant
    bob: Tenant
    recorder: BrokerLogin


def _tenant(username: str, session: str, device_ids: list[str]) -> Tenant:
    return Tenant(
        username=username,
        dashboard=dashboard_login(username, session),
        devices={d.lower(): device_login(username, d) for d in device_ids},
    )


@pytest.fixture
async def world(broker: ManagedMosquitto) -> World:
    alice = _tenant("alice", "a1ce5e55", ["ESP-A00001", "ESP-A00002"])
    bob = _tenant("bob", "b0b5e55", ["ESP-B00001", "ESP-B00002"])
    recorder = recorder_login("test")
    logins = [alice.dashboard, *alice.devices.values(), bob.dashboard, *bob.devices.values()]
    await broker.put_logins([*logins, recorder])
    return World(alice, bob, recorder)


@pytest.fixture
def probe(broker: ManagedMosquitto) -> Iterator[Callable[..., Probe]]:
    """Make probe clients for logins; every one is closed at the end of the test."""
    made: list[Probe] = []

    def make(login: BrokerLogin, **kw: object) -> Probe:
        made.append(Probe.of(broker.port, login, **kw))
        return made[-1]

    yield make
    for p in made:
        p.close()


@pytest.fixture
def backend_dir(data_dir: Path) -> Path:
    data_dir.mkdir(mode=0o711)
    return data_dir


@pytest.fixture
async def backend(backend_dir: Path) -> AsyncIterator[Backend]:
    """The backend app (SQLite) with the broker extension on a managed Mosquitto."""
    settings = app_settings(backend_dir)
    extension = BrokerExtension(settings, build_backend(settings, env={}))
    async for running in open_backend(backend_dir, extension):
        yield running
