"""The whole app: settings, session, screens, tray. One instance per process."""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from pooldesk.core import desktop_notify
from pooldesk.core.backend_client import BackendClient
from pooldesk.core.failures import Message
from pooldesk.core.session import Session, SessionState
from pooldesk.core.token_store import TokenStore
from pooldesk.ui import format as fmt
from pooldesk.ui.controllers.account import AccountController
from pooldesk.ui.controllers.auth import AuthController
from pooldesk.ui.controllers.dashboard import DashboardController
from pooldesk.ui.controllers.local_server import LocalServerController
from pooldesk.ui.icon import app_icon
from pooldesk.ui.main_window import MainWindow
from pooldesk.ui.settings_store import SettingsStore
from pooldesk.ui.tasks import TaskGroup
from pooldesk.ui.views.common import ConfirmDialog

log = logging.getLogger(__name__)


class AppController(QObject):
    def __init__(
        self, settings_store: SettingsStore, *, command_timeout: float = 8.0, keepalive: int = 30
    ) -> None:
        super().__init__()
        self.settings_store = settings_store
        self.settings = settings_store.load()
        self.window = MainWindow()
        w = self.window
        self.auth = AuthController(w.server_view, w.sign_in_view, w.register_view)
        self.dashboard = DashboardController(
            w.dashboard_view, command_timeout=command_timeout, keepalive=keepalive
        )
        self.account = AccountController(w.account_view)
        self.local_server = LocalServerController(w)
        self.session: Session | None = None
        self.tasks = TaskGroup()
        self.notices: list[tuple[str, str]] = []  # what the tray was asked to show
        self.notice_channels: list[str] = []  # where each went: tray, desktop or window
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(app_icon(), self)
            self.tray.setToolTip("PoolDesk")
            self.tray.activated.connect(lambda _reason: self._raise())
            self.tray.show()
        self._closed = asyncio.get_event_loop().create_future()

        self.auth.show_requested.connect(self._show)
        self.auth.server_chosen.connect(self._server_chosen)
        self.dashboard.account_requested.connect(self._open_account)
        self.dashboard.notice.connect(self._notify)
        w.dashboard_view.sign_out_requested.connect(lambda: self.tasks.spawn(self.sign_out()))
        self.account.back_requested.connect(lambda: self._show(w.dashboard_view))
        self.account.notifications_changed.connect(self._set_notifications)
        self.account.view.temperature_unit_chosen.connect(self._set_temperature_unit)
        fmt.set_temperature_unit(self.settings.temperature_unit)
        self.dashboard.watcher.enabled = self.settings.notifications
        w.closing.connect(self._window_closed)
        w.server_view.local_requested.connect(self.local_server.open)
        self.local_server.ready.connect(self._local_server_ready)
        w.account_view.remove_local_server_requested.connect(self._ask_remove_local_server)
        self._show_local_server()
        w.sign_in_view.change_server_requested.connect(
            lambda: w.server_view.set_values(self.settings.server_url, self.settings.allow_insecure)
        )

    # -- start / stop -------------------------------------------------------------------------
    async def start(self) -> None:
        self.window.show()
        if self.settings.local_server == "app":  # no systemd: the app runs it while it is open
            await self.local_server.restart_child()
        if not self.settings.server_confirmed:
            self.window.server_view.set_values(
                self.settings.server_url, self.settings.allow_insecure
            )
            self._show(self.window.server_view)
            return
        await self._use_server(self.settings.server_url)

    async def run(self) -> None:
        """Start, then live until the window closes; then clean up."""
        await self.start()
        await self._closed
        await self.shutdown()

    def _window_closed(self) -> None:
        if not self._closed.done():
            self._closed.set_result(None)

    async def shutdown(self) -> None:
        await self.tasks.cancel_all()
        await self.auth.tasks.cancel_all()
        await self.account.tasks.cancel_all()
        await self.dashboard.stop()
        if self.session:
            await self.session.client.aclose()
        await self.local_server.stop_child()  # a systemd service keeps running
        await self.local_server.tasks.cancel_all()
        if self.tray:
            self.tray.hide()

    def _show(self, view) -> None:
        self.window.show_page(view)

    def _raise(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    # -- server and session -------------------------------------------------------------------
    def _server_chosen(self, url: str, allow_insecure: bool) -> None:
        self.settings.server_url = url
        self.settings.allow_insecure = allow_insecure
        self.settings.server_confirmed = True
        self.settings_store.save(self.settings)
        self.tasks.spawn(self._use_server(url))

    def _local_server_ready(self, url: str, how: str) -> None:
        self.settings.local_server = how
        self.settings_store.save(self.settings)
        self._show_local_server()
        self.settings.server_url, self.settings.allow_insecure = url, False
        self.settings.server_confirmed = True
        self.settings_store.save(self.settings)
        self.tasks.spawn(self._use_local_server(url))

    async def _use_local_server(self, url: str) -> None:
        await self._use_server(url)
        if self.window.page is self.window.sign_in_view:  # a new server has no accounts yet
            self.window.sign_in_view.notice.show_info(
                self.tr("Your server runs on this computer. Use “Create an account” to make "
                        "your account on it.")
            )  # fmt: skip

    def _show_local_server(self) -> None:
        view = self.window.account_view
        how = self.settings.local_server
        view.local_server_box.setVisible(bool(how))
        if how == "systemd":
            view.local_server_status.setText(
                self.tr("This computer runs your PoolDesk server as a background service; it "
                        "keeps running when PoolDesk is closed.")
            )  # fmt: skip
        elif how == "app":
            view.local_server_status.setText(
                self.tr("This computer runs your PoolDesk server while PoolDesk is open (this "
                        "system has no user services).")
            )  # fmt: skip
        view.local_server_offline.setText(
            self.tr("While this computer is off, the controllers keep their schedules, timers "
                    "and freeze protection; history and remote control wait.")
        )  # fmt: skip

    def _ask_remove_local_server(self) -> None:
        dialog = ConfirmDialog(
            self.tr("Stop and remove the server?"),
            self.tr("The server on this computer stops and no longer starts by itself. Your "
                    "account and history stay in its data folder; controllers cannot report "
                    "until a server runs again."),
            self.tr("Stop and remove"),
            self.window,
        )  # fmt: skip
        dialog.accepted.connect(lambda: self.tasks.spawn(self._remove_local_server()))
        self.local_server_dialog = dialog
        dialog.open()

    async def _remove_local_server(self) -> None:
        await self.local_server.remove()
        self.settings.local_server = ""
        self.settings_store.save(self.settings)
        self._show_local_server()
        self.window.account_view.notice.show_info(
            self.tr("The server on this computer was stopped and removed.")
        )

    async def _use_server(self, url: str) -> None:
        if self.session is not None:
            await self.dashboard.stop()
            await self.session.client.aclose()
        session = Session(BackendClient(url), TokenStore(url))
        self.session = session
        self.auth.session = session
        self.dashboard.session = session
        self.dashboard.allow_insecure = self.settings.allow_insecure
        self.account.session = session
        session.subscribe(self._session_changed)
        self.window.sign_in_view.server.setText(self.tr("Server: {url}").format(url=url))
        if session.store.load() is not None:
            self._show(self.window.sign_in_view)
            self.window.sign_in_view.set_busy(True)
            await session.start()
            self.window.sign_in_view.set_busy(False)
        else:
            await session.start()

    def _session_changed(self, state: SessionState, message: Message) -> None:
        if state is SessionState.SIGNED_IN:
            self.window.register_view.set_busy(False)
            self._show(self.window.dashboard_view)
            if message:  # e.g. no keyring: this session lasts for this run only
                self.window.dashboard_view.notice.show_error(fmt.core_message(message))
            self.dashboard.start()
        elif state is SessionState.SIGNED_OUT:
            assert self.session is not None
            if self.session.previous_state is SessionState.SIGNING_IN:
                return  # a refused sign-in or registration: its screen shows why
            self.tasks.spawn(self.dashboard.stop())
            self.auth.show_sign_in(message, is_error=self.session.message_is_error)

    async def sign_out(self) -> None:
        if self.session:
            await self.dashboard.stop()
            await self.session.sign_out()

    # -- account / notifications --------------------------------------------------------------
    def _open_account(self) -> None:
        self._show(self.window.account_view)
        self.account.show(self.settings.notifications)
        self.window.account_view.show_temperature_unit(self.settings.temperature_unit)

    def _set_temperature_unit(self, choice: str) -> None:
        self.settings.temperature_unit = choice
        self.settings_store.save(self.settings)
        fmt.set_temperature_unit(choice)
        self.dashboard.refresh_cards()

    def _set_notifications(self, enabled: bool) -> None:
        self.settings.notifications = enabled
        self.settings_store.save(self.settings)
        self.dashboard.watcher.enabled = enabled

    def _notify(self, title: str, text: str) -> None:
        if not self.settings.notifications:
            return
        self.notices.append((title, text))
        if self.tray is not None:
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Warning, 10_000)
            self.notice_channels.append("tray")
        else:
            self.tasks.spawn(self._notify_without_tray(title, text))

    async def _notify_without_tray(self, title: str, text: str) -> None:
        """No tray: the desktop's notification service; without one, the window says it."""
        if await desktop_notify.notify(title, text):
            self.notice_channels.append("desktop")
            return
        self.notice_channels.append("window")
        QApplication.beep()
        self.window.dashboard_view.notice.show_error(f"{title}: {text}")
