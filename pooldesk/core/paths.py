"""The platform's standard folders for PoolDesk (platformdirs): logs, data, exports."""

from __future__ import annotations

import os
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


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (0600; an export holds the account's whole
    history), through a temporary file so that a failure never leaves half of it behind."""
    temporary = path.with_name(path.name + ".part")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # also when the .part file was left by an earlier attempt
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            fd = -1
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        if fd != -1:
            os.close(fd)
        temporary.unlink(missing_ok=True)
        raise
