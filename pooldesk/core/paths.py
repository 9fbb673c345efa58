"""The platform's standard folders for PoolDesk (platformdirs): logs, data, exports."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "PoolDesk"
APP_AUTHOR = "PoolDesk"


def log_dir() -> Path:
    path = Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    path = Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def documents_dir() -> Path:
    return Path(platformdirs.user_documents_dir())
