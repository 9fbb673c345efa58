"""Real widgets (pytest-qt, offscreen) on a qasync loop.

pytest-asyncio asks the `pytest_asyncio_loop_factories` hook for its loops: here every async
test runs on a `qasync.QEventLoop`, so awaiting in a test lets Qt paint, deliver signals and
serve the sockets paho and httpx use, just like the running app.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings
from PySide6.QtWidgets import QApplication

from pooldesk.core.backend_client import BackendClient
from pooldesk.core.models import MqttCredentials
from pooldesk.core.settings import AppSettings
from pooldesk.ui.controllers.app import AppController
from pooldesk.ui.event_loop import AppEventLoop
from pooldesk.ui.settings_store import SettingsStore
from tests.app.helpers import FakeController, Mosquitto, issued_device_login, unique_user
from tests.support.waiting import wait_until


def _qasync_loop() -> AppEventLoop:
    app = QApplication.instance() or QApplication([])
    return AppEventLoop(app)


def pytest_asyncio_loop_factories(config, item):
    return {"qasync": _qasync_loop}


@pytest.fixture(autouse=True)
def temp_qsettings(tmp_path: Path, qapp) -> Path:
    """QSettings write into the test's folder, never into the developer's settings."""
    folder = tmp_path / "qsettings"
    folder.mkdir()
    QCoreApplication.setOrganizationName("PoolDeskTests")
    QCoreApplication.setApplicationName(f"PoolDesk-{tmp_path.name}")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture
def broker(tmp_path: Path):
    mosquitto = Mosquitto(tmp_path)
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


def saved_settings(server_url: str) -> SettingsStore:
    store = SettingsStore()
    store.save(AppSettings(server_url=server_url, server_confirmed=True))
    return store


@pytest.fixture
async def make_app(qtbot) -> AsyncIterator[Callable[..., AppController]]:
    """Build AppControllers (one per simulated app start); all are shut down afterwards."""
    apps: list[AppController] = []

    def build(
        server_url: str | None = None,
        *,
        broker_port: int | None = None,
        command_timeout: float = 8.0,  # a slow machine's echo still counts as an answer
    ) -> AppController:
        store = saved_settings(server_url) if server_url else SettingsStore()
        app = AppController(store, command_timeout=command_timeout, keepalive=5)
        if broker_port is not None:
            app.dashboard.credentials_source = lambda: plain_credentials(app, broker_port)
        apps.append(app)
        return app

    yield build
    for app in apps:  # not qtbot.addWidget: pytest-qt would delete the window before this runs
        await app.shutdown()
        app.window.close()
        app.window.deleteLater()
        app.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # delete them now, not at exit
    gc.collect()


async def plain_credentials(app: AppController, port: int) -> MqttCredentials:
    """Until the backend issues broker logins, point the dashboard at a plain Mosquitto with
    the signed-in user's real topic prefix."""
    username = app.session.user.username
    return MqttCredentials(
        user=username,
        password="unused",
        client_id=f"app-{username}-{port}",
        topic_prefix=f"users/{username}",
        broker_url=f"mqtt://127.0.0.1:{port}",
    )


async def _signed_in_app(make_app, backend, broker_port: int | None):
    user = unique_user()
    client = BackendClient(backend.url)
    await client.register(user["username"], user["email"], user["password"], user["device_id"])
    await client.aclose()
    app = make_app(backend.url, broker_port=broker_port)
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    key = user["device_id"].lower()
    await wait_until(lambda: key in app.window.dashboard_view.cards, what="card")
    await wait_until(lambda: app.dashboard.link and app.dashboard.link.connected, what="live")
    return app, key, user


@pytest.fixture
async def signed_in(make_app, backend):
    """An app signed in as a fresh user, live on the backend's managed broker with the login the
    backend issued it (no hand-built prefix, no anonymous broker).

    Its device is a FakeController that connects with the device login the backend issues
    (`POST /api/devices/{id}/credentials`), so the broker's rights apply to it as to the firmware.
    It stays a stand-in on purpose: these tests hold, answer late or drop the controller's replies
    and publish readings and alerts on demand, which the firmware has no switch for; the real
    firmware drives the app in test_with_simulator.py."""
    app, key, user = await _signed_in_app(make_app, backend, None)
    login = await issued_device_login(app.session.client, user["device_id"])
    with _controllers(**login) as make:
        yield app, key, make, user


@pytest.fixture
async def signed_in_on_plain_broker(make_app, backend, broker):
    """`signed_in` on a plain Mosquitto of the test's own (`broker`), for the tests that stop and
    start the broker: the backend's managed broker is shared by the whole session and restarting
    it is the backend's job (tests/broker cover that). The prefix is the user's real one."""
    app, key, user = await _signed_in_app(make_app, backend, broker.port)
    with _controllers(broker.port, f"users/{user['username']}/devices/{key}") as make:
        yield app, key, make, user


@contextlib.contextmanager
def _controllers(port: int, prefix: str, **login) -> Iterator[Callable[..., FakeController]]:
    """`make(**kwargs)` starts a FakeController for the device; all are stopped afterwards."""
    controllers: list[FakeController] = []

    def make(**kwargs) -> FakeController:
        fake = FakeController(port, prefix, **login, **kwargs)
        fake.start()
        controllers.append(fake)
        return fake

    try:
        yield make
    finally:
        for fake in controllers:
            fake.stop()
