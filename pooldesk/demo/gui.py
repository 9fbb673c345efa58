"""`pooldesk demo`: the app itself, pointed at the demo's backend and simulated controllers.

The app runs exactly as installed (its AppController, wizard and dashboard), with three things
kept private to the demo so the user's own setup is never touched: the settings (an INI file in
the demo's data folder), the keyring (this process's memory) and the server (the demo's). A
demo account is registered first and printed, with the controllers' labels; closing the window
stops everything.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from pooldesk.core.backend_client import BackendClient
from pooldesk.demo.environment import DemoEnvironment
from pooldesk.demo.memory_keyring import use_memory_keyring
from pooldesk.demo.processes import DemoError
from pooldesk.demo.story import demo_account

if TYPE_CHECKING:
    from pooldesk.ui.controllers.app import AppController

Printer = Callable[[str], None]


class GuiDemo:
    def __init__(self, out: Printer = print) -> None:
        self.out = out
        self.env = DemoEnvironment()
        self.account = demo_account()
        self.app: AppController | None = None  # once started

    async def start(self) -> None:
        from PySide6.QtCore import QSettings

        from pooldesk.core.settings import AppSettings
        from pooldesk.ui.controllers.app import AppController
        from pooldesk.ui.event_loop import application
        from pooldesk.ui.settings_store import SettingsStore

        # The loop must outlive the window: the clean-up after the close runs on it.
        application([]).setQuitOnLastWindowClosed(False)
        use_memory_keyring()
        self.out("PoolDesk demo: starting a backend, its broker and two simulated controllers…")
        await self.env.__aenter__()
        try:
            await self._register_demo_account()
            settings_dir = self.env.data_dir / "settings"
            settings_dir.mkdir()
            QSettings.setDefaultFormat(QSettings.Format.IniFormat)
            QSettings.setPath(
                QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(settings_dir)
            )
            store = SettingsStore()
            store.save(AppSettings(server_url=self.env.backend_url, server_confirmed=True))
            self.app = app = AppController(store)
            await app.start()
            app.window.sign_in_view.username.setText(self.account["username"])
        except BaseException:
            await self.stop()
            raise
        self._print_guide()

    async def _register_demo_account(self) -> None:
        client = BackendClient(self.env.backend_url)
        try:
            a = self.account
            await client.register(
                a["username"], a["email"], a["password"], self.env.controllers[0].device_id
            )
        finally:
            await client.aclose()

    def _print_guide(self) -> None:
        a = self.account
        self.out(f"  server    {self.env.backend_url}  (data in {self.env.data_dir})")
        self.out(f"  account   {a['username']}  password {a['password']}")
        self.out("            (or create your own with the second controller's id)")
        for c in self.env.controllers:
            self.out(f"  label     {c.device_id}  claim code {c.label_code}")
        self.out(f"  Wi-Fi     {self.env.wifi_ssid}  password {self.env.wifi_password}")
        self.out(
            "Sign in, choose Add device, pick a controller and enter its claim code. "
            "Close the window to stop everything."
        )

    async def run(self) -> None:
        """Start, live until the window closes, then stop everything."""
        await self.start()
        try:
            assert self.app is not None
            await self.app._closed
        finally:
            await self.stop()

    async def stop(self) -> None:
        if self.app is not None:
            app, self.app = self.app, None
            await app.shutdown()
            app.window.close()
            app.window.deleteLater()
        await self.env.stop()
        self.out("PoolDesk demo: everything it started has stopped.")


def run_gui_demo(*, language: str | None = None) -> int:
    from PySide6.QtCore import QTimer

    from pooldesk import __version__
    from pooldesk.ui.event_loop import AppEventLoop, application
    from pooldesk.ui.i18n import install_translator
    from pooldesk.ui.theme import apply_theme

    app = application(sys.argv[:1])
    app.setOrganizationName("PoolDesk")
    app.setApplicationName("PoolDesk")  # the saved language choice applies to the demo too
    app.setApplicationVersion(__version__)
    apply_theme(app)
    loop = AppEventLoop(app)
    asyncio.set_event_loop(loop)
    demo = GuiDemo(lambda text: print(text, flush=True))
    task = loop.create_task(demo.run())

    def close_window(*_: object) -> None:  # Ctrl-C / SIGTERM: the same path as closing
        if demo.app is not None:
            loop.call_soon_threadsafe(demo.app.window.close)
        else:  # still starting: stop starting (its clean-up runs)
            loop.call_soon_threadsafe(task.cancel)

    signal.signal(signal.SIGINT, close_window)
    signal.signal(signal.SIGTERM, close_window)
    wake = QTimer()  # lets Python run its signal handlers while Qt waits
    wake.start(200)
    wake.timeout.connect(lambda: None)
    install_translator(app, language)  # before any widget exists: views translate at build
    with loop:
        try:
            loop.run_until_complete(task)
        except DemoError as exc:
            print(f"pooldesk demo: could not set up the demo: {exc}", file=sys.stderr)
            return 3
        except asyncio.CancelledError:
            print("pooldesk demo: interrupted; everything it started was stopped.", file=sys.stderr)
            return 130
    return 0
