"""The main window: one stacked page per screen."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QFrame,
    QMainWindow,
    QScrollArea,
    QStackedWidget,
    QToolButton,
    QWidget,
)

from pooldesk.ui.icon import app_icon
from pooldesk.ui.theme import THEMED, field_style
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
        self.setProperty(THEMED, True)
        self.setStyleSheet(field_style())  # dark-theme text fields that can be seen
        self.resize(900, 640)
        self.stack = QStackedWidget()
        self._holders: dict[QWidget, QScrollArea] = {}
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
            self.stack.addWidget(self._scrollable(view))

    def _scrollable(self, view: QWidget) -> QWidget:
        """Forms scroll vertically in a small window (600×400) instead of setting the window's
        minimum height; the dashboard scrolls its cards itself."""
        if view is self.dashboard_view:
            return view
        holder = QScrollArea()
        holder.setWidgetResizable(True)
        holder.setFrameShape(QFrame.Shape.NoFrame)
        holder.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        holder.setWidget(view)
        self._holders[view] = holder
        return holder

    def show_page(self, view) -> None:
        """Show a page; the messages of the page left behind are cleared, so that nothing said
        about an earlier attempt, server or user greets the next visit."""
        old = self.page
        if old is not None and old is not view:
            for label in old.findChildren(MessageLabel):
                if not label.sticky:
                    label.clear_message()
        self.stack.setCurrentWidget(self._holders.get(view, view))

    @property
    def page(self):
        """The page on screen (the view itself, not the scroll area holding it)."""
        current = self.stack.currentWidget()
        return current.widget() if isinstance(current, QScrollArea) else current

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Return (or Enter) on a focused button presses it, as Space does: outside dialogs
        Qt's push buttons ignore Return, and the key reaches the window unused."""
        focused = QApplication.focusWidget()
        if (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and isinstance(focused, QAbstractButton)
            and focused.isEnabled()
            and focused.window() is self
        ):
            if isinstance(focused, QToolButton) and focused.menu() is not None:
                focused.showMenu()
            else:
                focused.animateClick()
            event.accept()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.closing.emit()
        super().closeEvent(event)
