"""Real widgets (pytest-qt, offscreen) on a qasync loop.

pytest-asyncio asks the `pytest_asyncio_loop_factories` hook for its loops: here every async
test runs on a `qasync.QEventLoop`, so awaiting in a test lets Qt paint, deliver signals and
serve the sockets paho and httpx use, just like the running app.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
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
from tests.app.helpers import FakeController, Mosquitto, unique_user, wait_until


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
        command_timeout: float = 1.5,
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


@pytest.fixture
async def signed_in(make_app, backend, broker):
    """An app signed in as a fresh user whose device a FakeController plays."""
    user = unique_user()
    client = BackendClient(backend.url)
    await client.register(user["username"], user["email"], user["password"], user["device_id"])
    await client.aclose()
    app = make_app(backend.url, broker_port=broker.port)
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    key = user["device_id"].lower()
    await wait_until(lambda: key in app.window.dashboard_view.cards, what="card")
    await wait_until(lambda: app.dashboard.link and app.dashboard.link.connected, what="live")
    controllers: list[FakeController] = []

    def controller(**kwargs) -> FakeController:
        fake = FakeController(broker.port, f"users/{user['username']}/devices/{key}", **kwargs)
        fake.start()
        controllers.append(fake)
        return fake

    yield app, key, controller, user
    for fake in controllers:
        fake.stop()
