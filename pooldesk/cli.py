"""`pooldesk`: the desktop app's entry point (argument parsing, logging, the qasync loop).

`pooldesk demo [--headless]` runs the whole system on this computer (see docs/demo.md).
`pooldesk __backend__ ARGS` is `pooldesk-backend ARGS`; the demo uses it to start the backend
from a PyInstaller bundle, where there is no separate Python to run `-m pooldesk_server.cli` with.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import logging
import logging.handlers
import os
import sys
from collections.abc import Sequence

from pooldesk import __version__

log = logging.getLogger("pooldesk")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pooldesk",
        description="PoolDesk: watch and switch your pool controllers live.",
        epilog="Settings are kept in the platform's settings store, the session in the system "
        "keyring, logs in the platform's log folder.",
    )
    parser.add_argument("--version", action="version", version=f"pooldesk {__version__}")
    parser.add_argument(
        "--server", metavar="URL", help="use this server (and remember it) instead of the saved one"
    )
    parser.add_argument(
        "--allow-insecure",
        action="store_true",
        help="allow http:// and mqtt:// to hosts other than this computer",
    )
    parser.add_argument(
        "--log-level", default="info", choices=["debug", "info", "warning", "error"]
    )
    parser.add_argument(
        "--language",
        metavar="CODE",
        help="use this language (en, es, or 'system') and remember it; default: the system's",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="try everything on this computer: a private server, broker and two simulated "
        "pool controllers on a virtual Bluetooth radio",
        description="Start a private backend (SQLite), its Mosquitto broker and two simulated, "
        "not yet provisioned pool controllers on a virtual Bluetooth radio, then open the app "
        "pointed at them. Closing the app stops all of it and deletes its temporary data.",
    )
    demo.add_argument(
        "--headless",
        action="store_true",
        help="no window: tell the story (register, sign in, Bluetooth setup, pump on and off, "
        "history) step by step with timings; exit 0 when every step held",
    )
    demo.add_argument(
        "--wifi-password",
        metavar="TEXT",
        help="with --headless: the Wi-Fi password the demo's installer types (default: the "
        "simulated network's own); a wrong one shows how a failed step is reported",
    )
    return parser


def has_display() -> bool:
    """Can a window be shown? Linux needs X11 or Wayland unless Qt was told another platform."""
    if sys.platform in ("win32", "darwin"):
        return True
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] not in ("", "xcb", "wayland"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


# What each command imports that only an extra installs (pyproject.toml, docs/build.md).
APP_NEEDS = ("PySide6", "qasync", "bleak", "pyqtgraph", "keyring")
DEMO_NEEDS = ("bleak", "bumble", "starlette", "uvicorn", "sqlalchemy")


def missing_extra(modules: Sequence[str], extras: str, what: str) -> str | None:
    """An install hint when one of `modules` is not installed, else None."""
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            return (
                f"pooldesk: {what} needs {name}, which is not installed: "
                f"pip install 'pooldesk[{extras}]'"
            )
    return None


def run_demo(args: argparse.Namespace) -> int:
    headless = args.headless
    if not headless and not has_display():
        print(
            "pooldesk demo: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set), "
            "so the demo runs without a window (--headless).",
            flush=True,
        )
        headless = True
    problem = missing_extra(
        DEMO_NEEDS if headless else (*APP_NEEDS, *DEMO_NEEDS), "desktop,sim", "the demo"
    )
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if headless:
        from pooldesk.demo.headless import run_headless

        return run_headless(args.wifi_password)
    if args.wifi_password is not None:
        print("pooldesk demo: --wifi-password only applies with --headless", file=sys.stderr)
        return 2
    setup_logging(args.log_level)
    from pooldesk.demo.gui import run_gui_demo

    return run_gui_demo(language=args.language)


def setup_logging(level: str) -> str:
    from pooldesk.core.paths import log_dir

    path = log_dir() / "pooldesk.log"
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level.upper())
    return str(path)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["__backend__"]:
        from pooldesk_server.cli import main as backend_main

        return backend_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.language:
        from pooldesk.ui.i18n import LANGUAGES, SYSTEM

        args.language = args.language.strip().lower()
        if args.language not in (*LANGUAGES, SYSTEM):
            print(
                f"pooldesk: unknown language {args.language!r}; choose one of "
                f"{', '.join([*LANGUAGES, SYSTEM])}",
                file=sys.stderr,
            )
            return 2
    if args.command == "demo":
        return run_demo(args)
    from pooldesk.core.settings import UnsafeUrlError, check_server_url

    server_url = None
    if args.server:
        try:
            server_url = check_server_url(args.server, args.allow_insecure)
        except UnsafeUrlError as exc:
            print(f"pooldesk: {exc}", file=sys.stderr)
            return 2
    problem = missing_extra(APP_NEEDS, "desktop", "the desktop app")
    if problem:
        print(problem, file=sys.stderr)
        return 2
    log_path = setup_logging(args.log_level)

    from pooldesk.ui.controllers.app import AppController
    from pooldesk.ui.event_loop import AppEventLoop, application
    from pooldesk.ui.i18n import install_translator
    from pooldesk.ui.settings_store import SettingsStore
    from pooldesk.ui.theme import apply_theme

    app = application(sys.argv[:1])
    app.setOrganizationName("PoolDesk")
    app.setApplicationName("PoolDesk")
    app.setApplicationVersion(__version__)
    # The loop must outlive the window: AppController.run() cleans up on it after the close.
    app.setQuitOnLastWindowClosed(False)
    apply_theme(app)
    install_translator(app, args.language)
    store = SettingsStore()
    if server_url:
        settings = store.load()
        settings.server_url = server_url
        settings.allow_insecure = args.allow_insecure
        settings.server_confirmed = True
        store.save(settings)
    log.info("pooldesk %s starting; log file %s", __version__, log_path)
    loop = AppEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        controller = AppController(store)
        loop.run_until_complete(controller.run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
