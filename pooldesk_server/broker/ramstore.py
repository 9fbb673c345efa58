"""The managed broker saves its state (`mosquitto.db`) into RAM; PoolDesk copies it to disk.

Why: Mosquitto 2.0 saves its whole state every `autosave_interval` in its only thread and ends
each save with an `fsync`, which waits for the disk. Traced on the shared test machine
(docs/mqtt.md, "Where the echo's tail came from"): a save every 1-2 s, its fsync 8 ms median and
up to 84 ms, and 94% of the echoes in flight during one took over 10 ms (12% of all echoes did).
Saved into a tmpfs the fsync returns at once; a thread of the backend then copies the file to
`store/mosquitto.db` on disk (written, fsynced, renamed) within a second, without the broker
waiting.

What a fault loses is unchanged in kind: a broker or backend crash restarts from the RAM copy
(at most the last second of changes lost, as before); a power cut or a reboot without a clean
stop empties the RAM, and the broker starts from the disk copy, which lags the broker's save by
at most `MIRROR_INTERVAL_S` (so about 2 s of changes are lost instead of 1). A clean stop saves
and copies the final state.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pwd
import stat
from pathlib import Path

log = logging.getLogger(__name__)

SHM = Path("/dev/shm")  # noqa: S108 - a folder made 0700 and checked: ours, not a link
DB_NAME = "mosquitto.db"
MIRROR_INTERVAL_S = 1.0

MirrorKey = tuple[int, int, int]  # (mtime_ns, size, inode) of the RAM copy last copied


def _on_tmpfs(path: Path) -> bool:
    """Is `path` on a tmpfs (the innermost mount holding it)?"""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    best, kind = "", ""
    for fields in (line.split() for line in mounts):
        inside = len(fields) > 2 and (str(path) + "/").startswith(fields[1].rstrip("/") + "/")
        if inside and len(fields[1]) >= len(best):
            best, kind = fields[1], fields[2]
    return kind == "tmpfs"


def _ram_root() -> Path:
    """systemd's `RuntimeDirectory=` (kept across restarts with `RuntimeDirectoryPreserve=`; the
    unit's `PrivateDevices=` gives the service a /dev/shm of its own that dies with it), else
    /dev/shm."""
    runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    return Path(runtime) if runtime else SHM


def ram_path(data_dir: Path) -> Path:
    """Where the broker of `data_dir` saves its state in RAM (whether or not it is used)."""
    name = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return _ram_root() / f"pooldesk-broker-{name}"


def ram_dir_for(data_dir: Path) -> Path | None:
    """A private folder in RAM for this data folder, or None (no tmpfs there, or the name is
    taken by something that is not ours: /dev/shm is writable by everyone)."""
    folder = ram_path(data_dir)
    if not _on_tmpfs(folder.parent):
        log.warning("broker state stays on disk: %s is not a tmpfs", folder.parent)
        return None
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        st = os.lstat(folder)
    except OSError as error:
        log.warning("broker state stays on disk: cannot use %s: %s", folder, error)
        return None
    mosquitto_uid = _uid_of("mosquitto")
    if (
        not stat.S_ISDIR(st.st_mode)
        or st.st_uid not in (os.geteuid(), mosquitto_uid)
        or stat.S_IMODE(st.st_mode) & 0o077
    ):
        log.warning("broker state stays on disk: %s is not a private folder of ours", folder)
        return None
    return folder


def _uid_of(user: str) -> int | None:
    try:
        return pwd.getpwnam(user).pw_uid
    except KeyError:
        return None


def seed(ram_dir: Path, disk_db: Path, owner: tuple[int, int] | None) -> None:
    """Before the broker starts: copy the disk copy into RAM unless RAM holds a save at least as
    new (after a crash it is the newer one; after a power cut it is gone)."""
    ram_db = ram_dir / DB_NAME
    try:
        disk = disk_db.stat()
    except FileNotFoundError:
        disk = None
    try:
        ram_time = ram_db.stat().st_mtime_ns
    except FileNotFoundError:
        ram_time = -1
    if disk is not None and disk.st_mtime_ns > ram_time:
        _copy(disk_db, ram_db, durable=False)
    if owner is not None:
        os.chown(ram_dir, *owner)
        if ram_db.exists():
            os.chown(ram_db, *owner)


def mirror(ram_dir: Path, disk_db: Path, last: MirrorKey | None) -> MirrorKey | None:
    """Copy the broker's latest save to disk if it changed since `last`; returns the new key.
    Blocking (fsync): run it in a thread."""
    ram_db = ram_dir / DB_NAME
    try:
        st = ram_db.stat()
    except FileNotFoundError:
        return last
    key = (st.st_mtime_ns, st.st_size, st.st_ino)
    if key != last:
        _copy(ram_db, disk_db, durable=True)
    return key


def flush_to_disk(path: Path, last: MirrorKey | None) -> MirrorKey | None:
    """fsync a file another process writes (the login plugin's journal, which the broker only
    hands to the kernel, never waits for), if it changed since `last`. Opened anew each time:
    the plugin replaces the file when it compacts it (by a rename it does not wait for either:
    a new file also gets its folder fsynced, so the rename survives a power cut). Blocking: run
    it in a thread."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return last
    try:
        st = os.fstat(fd)
        key = (st.st_mtime_ns, st.st_size, st.st_ino)
        if key != last:
            os.fsync(fd)
        if last is None or key[2] != last[2]:
            _fsync_folder(path.parent)
        return key
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy(source: Path, target: Path, *, durable: bool) -> None:
    """Copy through a temporary file and a rename, keeping the source's modification time (how
    `seed` tells which copy is newer). The broker replaces its save by a rename, so the open
    file is always one whole save."""
    tmp = target.with_name(target.name + ".copy")
    with source.open("rb") as src:
        data = src.read()
        times = os.fstat(src.fileno())
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out:
        out.write(data)
        out.flush()
        if durable:
            os.fsync(out.fileno())
    os.utime(tmp, ns=(times.st_atime_ns, times.st_mtime_ns))
    os.replace(tmp, target)
    if durable:
        _fsync_folder(target.parent)
