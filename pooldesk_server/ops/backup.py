"""One consistent archive of a running service, and a working service rebuilt from it.

An archive is a gzip'd tar with:
- `pooldesk-backup.json`: the manifest (format, time, database kind, schema revision, and the
  SHA-256 of every other member), checked before anything is restored;
- `database/pooldesk.db` (SQLite, taken with SQLite's online backup API, so a running server
  may keep writing) or `database/pooldesk.pgdump` (PostgreSQL, `pg_dump --format=custom`,
  itself one snapshot);
- `data/...`: the rest of the data folder that a service needs to start as it was: the managed
  broker's login store, its admin password, its CA and keys, the http-auth login file. Runtime
  leftovers (pid, log, lock and temporary files) are not kept;
- `env/backup.env`: the environment file (JWT_SECRET and the rest), when one is named.

The archive holds secrets: it is written with mode 0600. The broker's store may be a few
seconds older or newer than the database; the database is the truth for logins, and the
service reconciles the broker with it when it starts (`broker sync` does the same by hand).

Restore refuses a folder that is in use or not empty, unpacks into a sibling temporary folder,
verifies every member against the manifest and only then renames the folder into place: a
restore that fails half-way leaves nothing behind. A PostgreSQL target database must be empty.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath

from sqlalchemy.engine import URL, make_url

from pooldesk_server.settings import Settings

FORMAT = 1
MANIFEST = "pooldesk-backup.json"
SQLITE_MEMBER = "database/pooldesk.db"
PGDUMP_MEMBER = "database/pooldesk.pgdump"
ENV_MEMBER = "env/backup.env"
DATA_PREFIX = "data/"
SQLITE_NAME = "pooldesk.db"
# Files a running service writes for itself: recreated at the next start, never restored.
RUNTIME_SUFFIXES = (".pid", ".log", ".lock", ".new", ".tmp", "-wal", "-shm", "-journal")
PG_TOOLS_HINT = "apt-get install postgresql-client (pg_dump and pg_restore)"


class BackupError(Exception):
    """Backup or restore cannot go on; the message tells the operator what to do."""


@dataclass(frozen=True)
class BackupReport:
    path: Path
    database: str
    files: int
    size: int

    def as_text(self) -> str:
        return (
            f"wrote {self.path} ({self.size:,} bytes): the {self.database} database and "
            f"{self.files} files of the data folder. It holds secrets: keep it private."
        )


@dataclass(frozen=True)
class RestoreReport:
    data_dir: Path
    database: str
    created: str
    env_file: Path | None

    def as_text(self) -> str:
        lines = [
            f"restored the backup of {self.created} ({self.database}) into {self.data_dir}.",
            f"Start it with: pooldesk-backend serve --data-dir {self.data_dir}",
        ]
        if self.env_file is not None:
            lines.append(
                f"The saved environment (JWT_SECRET...) is in {self.env_file}: point "
                "POOLDESK_ENV_FILE at it, or copy its settings where the service reads them."
            )
        return "\n".join(lines)


# -- backup ----------------------------------------------------------------------------------


def write_backup(settings: Settings, out: Path, env_file: Path | None = None) -> BackupReport:
    """Write the archive to `out` (replaced atomically: a failed backup leaves no file)."""
    from pooldesk_server.db.migrate import head_revision

    out = out.expanduser().resolve()
    if out.is_relative_to(settings.data_dir):
        raise BackupError("write the backup outside the data folder it backs up")
    if env_file is not None and not env_file.is_file():
        raise BackupError(f"environment file {env_file} not found")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pooldesk-backup-") as scratch:
        members: list[tuple[str, Path]] = []
        if settings.is_sqlite:
            snapshot = Path(scratch) / SQLITE_NAME
            _sqlite_snapshot(_sqlite_path(settings), snapshot)
            members.append((SQLITE_MEMBER, snapshot))
            kind = "sqlite"
        else:
            dump = Path(scratch) / "pooldesk.pgdump"
            _pg_dump(settings.database_url, dump)
            members.append((PGDUMP_MEMBER, dump))
            kind = "postgresql"
        data_files = list(_data_files(settings.data_dir))
        members += [(DATA_PREFIX + rel, path) for rel, path in data_files]
        if env_file is not None:
            members.append((ENV_MEMBER, env_file))
        manifest = {
            "format": FORMAT,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "pooldesk": _version(),
            "database": kind,
            "schema": head_revision(),
            "files": {name: _sha256(path) for name, path in members},
        }
        partial = out.with_name(f".{out.name}.partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
                for name, path in members:
                    tar.add(path, arcname=name, recursive=False, filter=_private)
            os.replace(partial, out)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupReport(out, kind, len(data_files), out.stat().st_size)


def _sqlite_path(settings: Settings) -> Path:
    database = make_url(settings.database_url).database
    if not database:
        raise BackupError("DATABASE_URL names no SQLite file")
    path = Path(database)
    if not path.is_file():
        raise BackupError(f"no database at {path}: nothing to back up")
    return path


def _sqlite_snapshot(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while other connections keep writing."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot read the database {source}: {exc}") from None
    finally:
        dst.close()
        src.close()


def _data_files(data_dir: Path) -> Iterator[tuple[str, Path]]:
    for root, dirs, files in os.walk(data_dir):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            rel = path.relative_to(data_dir).as_posix()
            if rel.startswith(SQLITE_NAME) or name.endswith(RUNTIME_SUFFIXES):
                continue
            if path.is_symlink() or not path.is_file():
                continue
            yield rel, path


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode &= 0o700
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    tar.addfile(info, io.BytesIO(data))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version() -> str:
    try:
        return version("pooldesk")
    except PackageNotFoundError:
        return "unknown"


# -- PostgreSQL ------------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    """The newest Debian server-side binary (matches the newest server), else the PATH's."""
    candidates = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    found = candidates[-1] if candidates else shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed: {PG_TOOLS_HINT}")
    return found


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection arguments and environment for the libpq tools (the password never on argv)."""
    args = ["--host", url.host or "127.0.0.1", "--port", str(url.port or 5432)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(cmd: list[str], env: dict[str, str], what: str) -> str:
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    except subprocess.TimeoutExpired:
        raise BackupError(f"{what} did not finish within an hour") from None
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def _pg_dump(database_url: str, target: Path) -> None:
    url = make_url(database_url)
    args, env = _libpq(url)
    _run(
        [
            _pg_tool("pg_dump"),
            *args,
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--file",
            str(target),
            url.database or "postgres",
        ],
        env,
        "pg_dump",
    )


def _pg_is_empty(database_url: str) -> bool:
    url = make_url(database_url)
    args, env = _libpq(url)
    count = _run(
        [
            _pg_tool("psql"),
            *args,
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url.database or "postgres",
            "-c",
            "select count(*) from pg_tables where schemaname not in ('pg_catalog', "
            "'information_schema')",
        ],
        env,
        "checking the target database",
    )
    return count.strip() == "0"


def _pg_restore(database_url: str, dump: Path) -> None:
    url = make_url(database_url)
    args, env = _libpq(url)
    _run(
        [
            _pg_tool("pg_restore"),
            *args,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            url.database or "postgres",
            str(dump),
        ],
        env,
        "pg_restore",
    )


# -- restore ---------------------------------------------------------------------------------


def restore_backup(
    settings: Settings, archive: Path, in_use: Callable[[Path], int | None] | None = None
) -> RestoreReport:
    """Rebuild the data folder `settings.data_dir` (and the PostgreSQL database, when
    DATABASE_URL names one) from `archive`. `in_use` returns the pid holding a folder, if any."""
    target = settings.data_dir
    holder = in_use(target) if in_use is not None else None
    if holder is not None:
        raise BackupError(f"data folder {target} is in use by pid {holder}: stop it first")
    if target.exists() and any(target.iterdir()):
        raise BackupError(
            f"{target} is not empty: restore into a new folder, or move this one away first"
        )
    if not archive.is_file():
        raise BackupError(f"no backup at {archive}")
    try:
        tar = tarfile.open(archive, mode="r:gz")  # noqa: SIM115 - closed by the `with` below
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"{archive} is not a PoolDesk backup: {exc}") from None
    with tar:
        manifest = _read_manifest(tar, archive)
        kind = manifest["database"]
        if kind == "sqlite" and not settings.is_sqlite:
            raise BackupError(
                "this backup holds a SQLite database; unset DATABASE_URL to restore it as "
                "SQLite (moving to PostgreSQL is not a restore)"
            )
        if kind == "postgresql" and settings.is_sqlite:
            raise BackupError(
                "this backup holds a PostgreSQL database: set DATABASE_URL to an empty "
                "PostgreSQL database to restore it into"
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.restoring-", dir=target.parent))
        try:
            env_file = _unpack(tar, manifest, staging)
            if kind == "postgresql":
                if not _pg_is_empty(settings.database_url):
                    raise BackupError(
                        "the PostgreSQL database in DATABASE_URL is not empty: restore into a "
                        "new, empty database"
                    )
                _pg_restore(settings.database_url, staging / "pooldesk.pgdump")
                (staging / "pooldesk.pgdump").unlink()
            staging.chmod(0o700)
            if target.exists():
                target.rmdir()  # empty, checked above
            os.replace(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    env_path = target / env_file if env_file is not None else None
    return RestoreReport(target, kind, str(manifest.get("created", "?")), env_path)


def _read_manifest(tar: tarfile.TarFile, archive: Path) -> dict:
    try:
        member = tar.getmember(MANIFEST)
        raw = tar.extractfile(member)
        manifest = json.loads(raw.read()) if raw is not None else None
    except (KeyError, tarfile.TarError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise BackupError(f"{archive} is not a PoolDesk backup (no manifest)")
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"{archive} has backup format {manifest.get('format')!r}; this version reads "
            f"format {FORMAT}"
        )
    if manifest.get("database") not in ("sqlite", "postgresql"):
        raise BackupError(f"{archive}: unknown database kind {manifest.get('database')!r}")
    return manifest


def _unpack(tar: tarfile.TarFile, manifest: dict, staging: Path) -> str | None:
    """Extract the listed members into `staging`, checking each hash; return the env file's
    name inside the folder, if the backup has one."""
    expected: dict[str, str] = manifest["files"]
    seen: set[str] = set()
    env_name: str | None = None
    for member in tar.getmembers():
        if member.name == MANIFEST:
            continue
        if member.name not in expected or not member.isfile():
            raise BackupError(f"the backup holds an unexpected member {member.name!r}")
        destination = _destination(member.name, staging)
        if member.name == ENV_MEMBER:
            env_name = destination.name
        source = tar.extractfile(member)
        if source is None:
            raise BackupError(f"cannot read {member.name} from the backup")
        destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        digest = hashlib.sha256()
        fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            while block := source.read(1 << 20):
                digest.update(block)
                out.write(block)
        if digest.hexdigest() != expected[member.name]:
            raise BackupError(f"{member.name} does not match its checksum: the backup is damaged")
        seen.add(member.name)
    missing = set(expected) - seen
    if missing:
        raise BackupError(f"the backup is incomplete: {', '.join(sorted(missing))} missing")
    return env_name


def _destination(name: str, staging: Path) -> Path:
    """Where a member goes; names that would escape the folder are refused."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts:
        raise BackupError(f"the backup holds an unsafe path {name!r}")
    if name == SQLITE_MEMBER:
        return staging / SQLITE_NAME
    if name == PGDUMP_MEMBER:
        return staging / "pooldesk.pgdump"
    if name == ENV_MEMBER:
        return staging / "backup.env"
    if name.startswith(DATA_PREFIX):
        return staging.joinpath(*path.parts[1:])
    raise BackupError(f"the backup holds an unexpected member {name!r}")
