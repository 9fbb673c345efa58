"""A throw-away PostgreSQL cluster from the Debian server binaries, for the test session.

As root the cluster runs as the `postgres` user (initdb refuses root) in a temp folder it owns.
It listens on 127.0.0.1 only, on a free port, with its unix socket inside the temp folder.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import free_port

INSTALL_HINT = (
    "PostgreSQL server binaries are needed for the backend tests: "
    "apt-get install postgresql (provides /usr/lib/postgresql/<version>/bin/initdb and pg_ctl)"
)


class PostgresUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class Cluster:
    bin_dir: Path
    port: int
    socket_dir: Path
    password: str
    as_user: list[str]

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    def psql(self, database: str, sql: str) -> None:
        result = subprocess.run(
            [
                *self.as_user,
                str(self.bin_dir / "psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.socket_dir),
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise PostgresUnavailable(f"psql failed: {result.stderr.strip()}")


def find_bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        raise PostgresUnavailable(INSTALL_HINT)
    return Path(candidates[0]).parent


def _run(cmd: list[str], what: str) -> None:
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise PostgresUnavailable(
            f"{what} failed (exit {result.returncode}): {result.stderr.strip() or result.stdout}"
        )


@contextmanager
def postgres_cluster() -> Iterator[Cluster]:
    bin_dir = find_bin_dir()
    as_user: list[str] = []
    owner: tuple[int, int] | None = None  # (uid, gid) of the cluster's files when root
    if os.geteuid() == 0:
        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable(
                "running as root needs the `postgres` system user (created by the postgresql "
                "package) to own the test cluster"
            ) from None
        if shutil.which("runuser") is None:
            raise PostgresUnavailable("running as root needs `runuser` (util-linux)")
        as_user = ["runuser", "-u", "postgres", "--"]
        owner = entry.pw_uid, entry.pw_gid
    root = Path(tempfile.mkdtemp(prefix="pooldesk-pg-"))
    os.chmod(root, 0o700)
    if owner is not None:
        os.chown(root, *owner)
    data, sockets, log = root / "data", root / "sock", root / "server.log"
    password = secrets.token_hex(16)
    port = free_port()
    started = False
    try:
        pwfile = root / "pw"
        pwfile.write_text(password)
        sockets.mkdir()
        if owner is not None:
            for path in (pwfile, sockets):
                os.chown(path, *owner)
        _run(
            [
                *as_user,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth-host=scram-sha-256",
                "--auth-local=trust",
                f"--pwfile={pwfile}",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            "initdb",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {sockets} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        _run(
            [
                *as_user,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            "pg_ctl start",
        )
        started = True
        yield Cluster(bin_dir, port, sockets, password, as_user)
    finally:
        if started:
            subprocess.run(
                [*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                timeout=60,
            )
        shutil.rmtree(root, ignore_errors=True)
