"""`pooldesk-backend`: serve, migrate, devices, users, sessions, activity, broker sync, recorder,
backup, restore."""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pooldesk_server.settings import ConfigError, Settings, load_settings, warn_if_ephemeral

if TYPE_CHECKING:
    from pooldesk_server.extensions import Extension

log = logging.getLogger("pooldesk_server.cli")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8788
# Idle keep-alive connections stay open longer than a reverse proxy keeps its own (serve_app).
IDLE_CONNECTION_S = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pooldesk-backend",
        description="PoolDesk backend: accounts, sessions, devices and device history over HTTP.",
        epilog="Settings come from the environment and an optional .env file; see docs/backend.md.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def data_dir_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--data-dir",
            type=Path,
            help="folder for the SQLite database (default: the per-user data folder, "
            "or POOLDESK_DATA_DIR)",
        )

    serve = commands.add_parser("serve", help="run the HTTP server (migrates the database first)")
    serve.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})"
    )
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to bind (default {DEFAULT_PORT})"
    )
    serve.add_argument(
        "--workers",
        type=int,
        help="HTTP worker processes (default 1, or POOLDESK_WORKERS); worker 0 also runs the "
        "broker, the recorder and the background jobs",
    )
    data_dir_option(serve)
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    data_dir_option(migrate)

    devices = commands.add_parser("devices", help="device manifest import, device list")
    device_commands = devices.add_subparsers(
        dest="devices_command", metavar="ACTION", required=True
    )
    manifest = device_commands.add_parser(
        "import",
        help="import a factory manifest CSV (columns deviceId,claimCode)",
        description="Import a factory manifest. Listed devices can then only be registered with "
        "their claim code. Claim codes are stored hashed.",
    )
    manifest.add_argument("file", type=Path, metavar="FILE.csv")
    data_dir_option(manifest)
    device_list = device_commands.add_parser(
        "list", help="list registered devices with their owner and status"
    )
    device_list.add_argument("--online", action="store_true", help="only devices online now")
    data_dir_option(device_list)

    users = commands.add_parser(
        "users",
        help="operator commands on accounts (work while `serve` runs)",
        description="List, inspect, disable and enable accounts. A disabled account cannot sign "
        "in; its sessions end and its MQTT logins (dashboards' and devices') are cut at once by "
        "the running server(s).",
    )
    user_commands = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    data_dir_option(user_commands.add_parser("list", help="every account, one a line"))
    for action, text in (
        ("show", "one account: devices, live sessions, MQTT logins"),
        ("disable", "refuse sign-in and end every session and MQTT login of the account"),
        ("enable", "allow a disabled account again"),
    ):
        sub = user_commands.add_parser(action, help=text)
        sub.add_argument("username", metavar="USER")
        data_dir_option(sub)

    sessions = commands.add_parser("sessions", help="operator commands on sessions")
    session_commands = sessions.add_subparsers(
        dest="sessions_command", metavar="ACTION", required=True
    )
    revoke = session_commands.add_parser(
        "revoke",
        help="end every session of a user (they sign in again); their dashboards' MQTT "
        "logins end at once",
    )
    revoke.add_argument("username", metavar="USER")
    data_dir_option(revoke)

    broker = commands.add_parser("broker", help="MQTT broker commands")
    broker_commands = broker.add_subparsers(dest="broker_command", metavar="ACTION", required=True)
    sync = broker_commands.add_parser(
        "sync",
        help="make the broker's logins match the database",
        description="Re-create at the broker the logins the database knows and remove the ones "
        "it does not (after the broker's store was lost or edited). With the managed broker, "
        "stop `serve` first: it owns the broker process.",
    )
    data_dir_option(sync)

    recorder = commands.add_parser(
        "recorder",
        help="record device messages into the history (a separate process)",
        description="Subscribe to every device's topics with the recorder's own login and store "
        "status, state, telemetry, alerts and events. `serve` already runs one in-process; "
        "extra recorders share the load through a shared subscription.",
    )
    data_dir_option(recorder)

    from pooldesk_server.firmware.cli import add_parser as add_firmware_parser

    add_firmware_parser(commands, data_dir_option)

    backup = commands.add_parser(
        "backup",
        help="write one consistent archive of the service (may run while it serves)",
        description="Archive the database (SQLite's online backup, or pg_dump), the managed "
        "broker's login store, CA and keys, and optionally the environment file. The archive "
        "holds secrets and is written with mode 0600.",
    )
    data_dir_option(backup)
    backup.add_argument("--out", type=Path, required=True, metavar="FILE", help="archive to write")
    backup.add_argument(
        "--env-file", type=Path, metavar="FILE", help="also keep this environment file (.env)"
    )

    restore = commands.add_parser(
        "restore",
        help="rebuild a service from a backup into a new, empty data folder",
        description="Refuses a data folder that is in use or not empty, and a PostgreSQL "
        "database (DATABASE_URL) that is not empty. Nothing is left behind when it fails.",
    )
    data_dir_option(restore)
    restore.add_argument("file", type=Path, metavar="FILE", help="archive written by `backup`")

    activity = commands.add_parser(
        "activity",
        help="unusual activity per account: failed sign-ins, refused broker logins",
        description="Counts, per account, failed sign-ins (from the audit log) and refused "
        "MQTT logins (from the managed broker's log) over the last hours; accounts at or above "
        "--min are listed.",
    )
    activity.add_argument("--hours", type=float, default=24.0, help="look back this far (24)")
    activity.add_argument(
        "--min", type=int, default=1, help="list accounts with at least this many"
    )
    data_dir_option(activity)
    return parser


class CommandError(Exception):
    pass


def configure_logging(
    level: str, settings: Settings | None = None, *, worker: int | None = None
) -> None:
    """Log lines on stderr: text, or JSON lines (POOLDESK_LOG_FORMAT=json). A worker of `serve
    --workers N` names itself in each text line."""
    who = f" [worker {worker}]" if worker is not None else ""
    logging.basicConfig(
        level=getattr(logging, level.upper()),
        format=f"%(asctime)s %(levelname)s %(name)s{who}: %(message)s",
        force=worker is not None,
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if settings is not None and settings.log_format == "json":
        from pooldesk_server.ops.logformat import use_json_lines

        use_json_lines()


async def _open_database(settings: Settings):
    from pooldesk_server.db.engine import Database
    from pooldesk_server.db.migrate import upgrade_to_head

    database = Database(settings.database_url)
    try:
        await upgrade_to_head(database)
    except Exception as exc:  # noqa: BLE001 - every driver's failure becomes one message
        await database.dispose()
        raise CommandError(f"cannot prepare the database ({_safe_url(settings)}): {exc}") from None
    return database


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


async def _migrate(settings: Settings) -> None:
    from pooldesk_server.db.migrate import current_revision

    database = await _open_database(settings)
    try:
        revision = await current_revision(database)
    finally:
        await database.dispose()
    print(f"database {_safe_url(settings)} is at schema {revision}")


async def _check_before_serving(settings: Settings) -> None:
    from pooldesk_server.db.engine import Database
    from pooldesk_server.db.migrate import current_revision, head_revision

    if settings.auto_migrate:
        await (await _open_database(settings)).dispose()
        return
    database = Database(settings.database_url)
    try:
        current = await current_revision(database)
    except Exception as exc:  # noqa: BLE001 - every driver's failure becomes one message
        raise CommandError(f"cannot reach the database ({_safe_url(settings)}): {exc}") from None
    finally:
        await database.dispose()
    if current != head_revision():
        raise CommandError(
            f"database schema is at {current or 'nothing'}, this version needs "
            f"{head_revision()}: run `pooldesk-backend migrate` first"
        )


async def _import_manifest(settings: Settings, file: Path, text: str) -> None:
    from pooldesk_server.devices.manifest import ManifestError, import_manifest, parse_manifest

    try:
        entries = parse_manifest(text)
    except ManifestError as exc:
        raise CommandError(f"{file}: {exc}") from None
    database = await _open_database(settings)
    try:
        result = await import_manifest(database, entries)
    finally:
        await database.dispose()
    print(f"imported {file}: {result.added} devices added, {result.updated} updated")


async def _firmware(settings: Settings, args: argparse.Namespace) -> None:
    from pooldesk_server.firmware.cli import FirmwareCommandError, run

    database = await _open_database(settings)
    try:
        lines = await run(database, settings, args)
    except FirmwareCommandError as exc:
        raise CommandError(f"firmware: {exc}") from None
    finally:
        await database.dispose()
    print("\n".join(lines))


def _lock(settings: Settings):
    from pooldesk_server.datalock import DataFolderInUse, lock_data_folder

    try:
        return lock_data_folder(settings.data_dir)
    except DataFolderInUse as exc:
        raise CommandError(str(exc)) from None


def _serve(settings: Settings, host: str, port: int, log_level: str) -> None:
    from pooldesk_server.extensions import installed_extensions
    from pooldesk_server.server import PortUnavailable, bind

    # One server per data folder, before the database, the broker or the recorder is touched;
    # then the port: a busy one is reported before anything (database, broker) is started.
    folder_lock = _lock(settings)
    try:
        sock = bind(host, port)
    except PortUnavailable as exc:
        folder_lock.release()
        raise CommandError(str(exc)) from None
    try:
        asyncio.run(_check_before_serving(settings))
        extensions = installed_extensions(settings)
        for extension in extensions:  # a broker that cannot even be described: say so and stop
            problem = getattr(extension, "config_error", None)
            if problem:
                raise ConfigError(f"error: MQTT broker settings: {problem}")
        if settings.workers == 1:
            log.info("serving on http://%s:%d (data folder %s)", host, port, settings.data_dir)
            started = serve_app(settings, sock, log_level, extensions=extensions)
            failure = "" if started else "the server did not start; the log above says why"
        else:
            from pooldesk_server.workers import Supervisor, WorkersFailed

            log.info(
                "serving on http://%s:%d with %d workers (data folder %s)",
                host,
                port,
                settings.workers,
                settings.data_dir,
            )
            supervisor = Supervisor(
                settings, sock, settings.workers, log_level, folder_lock=folder_lock.fd
            )
            try:
                supervisor.run()
            except WorkersFailed as exc:
                log.error("%s: every worker stopped", exc)
                if supervisor.serving:
                    failure = f"the server stopped after serving: {exc}"
                else:
                    failure = "the server did not start; the log above says why"
            else:
                failure = ""
    finally:
        sock.close()
        folder_lock.release()
    if failure:
        raise CommandError(failure)


def serve_app(
    settings: Settings,
    sock: socket.socket,
    log_level: str,
    *,
    primary: bool = True,
    on_started: Callable[[], None] | None = None,
    extensions: Sequence[Extension] | None = None,
) -> bool:
    """Run the app on `sock` until SIGINT/SIGTERM; False if it did not start. With `serve
    --workers N` every worker runs this (pooldesk_server/workers.py)."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG

    from pooldesk_server.app import create_app
    from pooldesk_server.extensions import installed_extensions
    from pooldesk_server.server import QuietServer

    if extensions is None:
        extensions = installed_extensions(settings)
    app = create_app(settings, extensions=extensions, primary=primary)
    config = uvicorn.Config(
        app,
        log_level=log_level,
        # The client address behind a proxy is worked out by the app itself
        # (POOLDESK_TRUSTED_PROXIES, pooldesk_server/http/forwarded.py), for every way it is
        # run.
        proxy_headers=False,
        server_header=False,
        access_log=False,
        # A reverse proxy keeps idle upstream connections open for a while (Caddy 2 min,
        # nginx 60 s) and sends the next request on one. uvicorn's 5 s default closed them
        # under the proxy, which turned a sign-in into a 502; the proxy must close first.
        timeout_keep_alive=IDLE_CONNECTION_S,
        # JSON lines: uvicorn's own loggers go through the root handler too.
        log_config=None if settings.log_format == "json" else LOGGING_CONFIG,
    )
    server = QuietServer(config, on_started=on_started)
    server.run(sockets=[sock])
    return server.started


async def _broker_sync(settings: Settings) -> None:
    from pooldesk_server.broker.base import BrokerError
    from pooldesk_server.broker.service.sync import run_sync

    try:
        report = await run_sync(settings)
    except BrokerError as exc:
        raise CommandError(f"broker sync failed: {exc}") from None
    print(report.as_text())


def _run_recorder(settings: Settings) -> None:
    from pooldesk_server.broker.base import BrokerError
    from pooldesk_server.recorder.service import run_recorder

    try:
        asyncio.run(run_recorder(settings))
    except BrokerError as exc:
        raise CommandError(f"recorder: {exc}") from None
    except KeyboardInterrupt:
        pass


def _backup(settings: Settings, out: Path, env_file: Path | None) -> None:
    from pooldesk_server.ops.backup import BackupError, write_backup

    try:
        print(write_backup(settings, out, env_file).as_text())
    except BackupError as exc:
        raise CommandError(f"backup: {exc}") from None


def _restore(settings: Settings, archive: Path) -> None:
    from pooldesk_server.datalock import holder_of
    from pooldesk_server.ops.backup import BackupError, restore_backup

    try:
        print(restore_backup(settings, archive, in_use=holder_of).as_text())
    except BackupError as exc:
        raise CommandError(f"restore: {exc}") from None


async def _operator(settings: Settings, args: argparse.Namespace) -> None:
    from pooldesk_server.ops import report
    from pooldesk_server.ops.accounts import OperatorError

    database = await _open_database(settings)
    try:
        print(await report.run(database, settings, args))
    except OperatorError as exc:
        raise CommandError(str(exc)) from None
    finally:
        await database.dispose()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(getattr(args, "log_level", "info"))
    try:
        settings = load_settings(data_dir=args.data_dir)
        if getattr(args, "workers", None) is not None:
            if args.workers < 1:
                raise CommandError(f"--workers must be at least 1, got {args.workers}")
            settings = settings.with_changes(workers=args.workers)
        configure_logging(getattr(args, "log_level", "info"), settings)
        if settings.is_sqlite and args.command != "restore":
            settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if args.command == "serve":
            if not 0 < args.port < 65536:
                raise CommandError(f"--port must be 1-65535, got {args.port}")
            warn_if_ephemeral(settings)
            _serve(settings, args.host, args.port, args.log_level)
        elif args.command == "migrate":
            asyncio.run(_migrate(settings))
        elif args.command == "devices" and args.devices_command == "import":
            try:
                text = args.file.read_text("utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise CommandError(f"cannot read {args.file}: {exc}") from None
            asyncio.run(_import_manifest(settings, args.file, text))
        elif args.command in ("users", "sessions", "activity", "devices"):
            asyncio.run(_operator(settings, args))
        elif args.command == "broker" and args.broker_command == "sync":
            from pooldesk_server.broker.service.config import broker_kind

            # `serve` owns the managed broker while it runs: refuse while it holds the folder.
            managed = broker_kind(settings, settings.broker_env) == "managed"
            folder_lock = _lock(settings) if managed else None
            try:
                asyncio.run(_broker_sync(settings))
            finally:
                if folder_lock is not None:
                    folder_lock.release()
        elif args.command == "firmware":
            asyncio.run(_firmware(settings, args))
        elif args.command == "recorder":
            _run_recorder(settings)
        elif args.command == "backup":
            _backup(settings, args.out, args.env_file)
        elif args.command == "restore":
            _restore(settings, args.file)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
