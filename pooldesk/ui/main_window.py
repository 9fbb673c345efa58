"""The main window: one stacked page per screen."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMainWindow, QStackedWidget

from pooldesk.ui.icon import app_icon
from pooldesk.ui.views.account_view import AccountView
from pooldesk.ui.views.auth_views import RegisterView, ServerView, SignInView
from pooldesk.ui.views.common import MessageLabel
from pooldesk.ui.views.dashboard_view import DashboardView


class MainWindow(QMainWindow):
    closing = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("PoolDesk")
        self.setWindowIcon(app_icon())
        self.resize(900, 640)
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.server_view = ServerView()
        self.sign_in_view = SignInView()
        self.register_view = RegisterView()
        self.dashboard_view = DashboardView()
        self.account_view = AccountView()
        for view in (
            self.server_view,
            self.sign_in_view,
            self.register_view,
            self.dashboard_view,
            self.account_view,
        ):
            self.stack.addWidget(view)

    def show_page(self, view) -> None:
        """Show a page; the messages of the page left behind are cleared, so that nothing said
        about an earlier attempt, server or user greets the next visit."""
        old = self.stack.currentWidget()
        if old is not None and old is not view:
            for label in old.findChildren(MessageLabel):
                if not label.sticky:
                    label.clear_message()
        self.stack.setCurrentWidget(view)

    @property
    def page(self):
        return self.stack.currentWidget()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.closing.emit()
        super().closeEvent(event)
