"""GUI tests run on the app's own qasync loop (see tests/app/integration/conftest.py), with
settings, keyring and data folders private to the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication

from pooldesk.ui.event_loop import AppEventLoop


def _qasync_loop() -> AppEventLoop:
    return AppEventLoop(QApplication.instance() or QApplication([]))


def pytest_asyncio_loop_factories(config, item):
    return {"qasync": _qasync_loop}


@pytest.fixture(autouse=True)
def private_settings(tmp_path: Path, qapp, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        folder = tmp_path / "home" / name.lower()
        folder.mkdir(parents=True)
        monkeypatch.setenv(name, str(folder))
    folder = tmp_path / "qsettings"
    folder.mkdir()
    QCoreApplication.setOrganizationName("PoolDeskTests")
    QCoreApplication.setApplicationName(f"PoolDesk-{tmp_path.name}")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    previous = keyring.get_keyring()
    try:
        yield folder
    finally:
        keyring.set_keyring(previous)
