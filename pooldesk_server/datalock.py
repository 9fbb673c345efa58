"""One `serve` per data folder: an exclusive lock held for the process's lifetime.

The data folder holds the managed broker (its store, ports and pid file) and the SQLite database.
A second `serve` on it would otherwise stop the running broker as "left over", re-put the
recorder's login with a new password and cut the first instance's devices. `flock` on
`<data dir>/serve.lock` is released by the kernel when the process ends, however it ends
(SIGKILL included), so a crashed server never blocks the next start. With `serve --workers N`
every worker holds the same lock (pooldesk_server/workers.py): it is released when the last of
them ends, not when the supervisor does.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

LOCK_NAME = "serve.lock"


class DataFolderInUse(Exception):
    """Another process holds the data folder; the message names it."""


class DataFolderLock:
    def __init__(self, folder: Path, fd: int) -> None:
        self.folder, self._fd = folder, fd

    @property
    def fd(self) -> int:
        """The lock's descriptor. A duplicate of it (a spawned worker of `serve --workers N`)
        shares the lock: the folder stays locked until every holder has closed it or ended."""
        return self._fd

    def release(self) -> None:
        """Close this process's descriptor; never an explicit unlock, which would free the
        folder under the processes that still hold a duplicate of it."""
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = -1


def process_alive(pid: int) -> bool:
    """Is `pid` a live process (a zombie is gone for our purposes)?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return ") Z " not in Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False


def holder_of(folder: Path) -> int | None:
    """The pid written by the process holding the folder's lock, if it is held."""
    path = folder / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 32).decode(errors="replace").strip().split("\n")[0]
            return int(text) if text.isdigit() else 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def lock_data_folder(folder: Path) -> DataFolderLock:
    """Take the folder's lock or raise `DataFolderInUse` ("data folder DIR in use by pid N").

    Call it before touching the database, the broker or the recorder. The lock file is not
    inherited by children (O_CLOEXEC), so a broker left running cannot keep it.
    """
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        text = os.read(fd, 32).decode(errors="replace").strip().split("\n")[0]
        os.close(fd)
        who = f"pid {text}" if text.isdigit() else "another process"
        if text.isdigit() and not process_alive(int(text)):
            # `serve --workers N` whose supervisor was killed: its workers still hold the lock.
            who = f"the workers of pid {text} (which has ended; they stop after their requests)"
        raise DataFolderInUse(
            f"data folder {folder} in use by {who}: another `pooldesk-backend serve` is "
            "running on it (stop it first, or give this one its own --data-dir)"
        ) from None
    # Written over the old pid, then cut to length: a refused `serve` reading meanwhile (it
    # reads the first line) sees a pid, never an empty file.
    pid = f"{os.getpid()}\n".encode()
    os.pwrite(fd, pid, 0)
    os.ftruncate(fd, len(pid))
    return DataFolderLock(folder, fd)
