"""Account page: password, sessions, export, deletion and app preferences."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pooldesk.ui.i18n import LANGUAGES, SYSTEM
from pooldesk.ui.views.auth_views import PasswordChecklist
from pooldesk.ui.views.common import MUTED_STYLE, BusyBar, MessageLabel

SYSTEM_UNIT, CELSIUS, FAHRENHEIT = "", "C", "F"  # QSettings ui/temperatureUnit


class AccountView(QWidget):
    back_requested = Signal()
    change_password_requested = Signal(str, str)
    refresh_sessions_requested = Signal()
    end_session_requested = Signal(str)
    export_requested = Signal()
    delete_requested = Signal(str)
    notifications_changed = Signal(bool)
    language_chosen = Signal(str)  # "system", "en" or "es"
    temperature_unit_chosen = Signal(str)  # "", "C" or "F"
    remove_local_server_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        header = QHBoxLayout()
        self.back_button = QPushButton(self.tr("← Dashboard"))
        header.addWidget(self.back_button)
        self.title = QLabel(self.tr("Account"))
        font = self.title.font()
        font.setPointSize(font.pointSize() + 6)
        font.setBold(True)
        self.title.setFont(font)
        header.addWidget(self.title, 1)
        outer.addLayout(header)
        self.who = QLabel()
        self.who.setStyleSheet(MUTED_STYLE)
        outer.addWidget(self.who)
        self.busy = BusyBar()
        outer.addWidget(self.busy)
        self.notice = MessageLabel()
        outer.addWidget(self.notice)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        column = QVBoxLayout(body)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

        # password
        box = QGroupBox(self.tr("Change password"))
        form = QFormLayout(box)
        self.current_password = QLineEdit()
        self.new_password = QLineEdit()
        self.repeat_password = QLineEdit()
        for field in (self.current_password, self.new_password, self.repeat_password):
            field.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("Current password"), self.current_password)
        form.addRow(self.tr("New password"), self.new_password)
        self.checklist = PasswordChecklist()
        form.addRow("", self.checklist)
        form.addRow(self.tr("Repeat new password"), self.repeat_password)
        self.password_message = MessageLabel()
        form.addRow(self.password_message)
        self.change_password_button = QPushButton(self.tr("Change password"))
        form.addRow(self.change_password_button)
        note = QLabel(self.tr("Changing the password signs out your other sessions."))
        note.setStyleSheet(MUTED_STYLE)
        form.addRow(note)
        column.addWidget(box)

        # sessions
        box = QGroupBox(self.tr("Where you are signed in"))
        layout = QVBoxLayout(box)
        self.sessions = QTableWidget(0, 3)
        self.sessions.setHorizontalHeaderLabels(
            [self.tr("App"), self.tr("Signed in"), self.tr("Last used")]
        )
        columns = self.sessions.horizontalHeader()
        columns.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for index in (1, 2):  # a date and time on one line, never wrapped or cut
            columns.setSectionResizeMode(index, QHeaderView.ResizeMode.ResizeToContents)
        self.sessions.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.sessions.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.sessions.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.sessions.setMinimumHeight(140)
        self.sessions.verticalHeader().hide()
        layout.addWidget(self.sessions)
        row = QHBoxLayout()
        self.refresh_sessions_button = QPushButton(self.tr("Refresh"))
        self.end_session_button = QPushButton(self.tr("End selected session"))
        row.addWidget(self.refresh_sessions_button)
        row.addStretch(1)
        row.addWidget(self.end_session_button)
        layout.addLayout(row)
        column.addWidget(box)

        # data
        box = QGroupBox(self.tr("Your data"))
        layout = QVBoxLayout(box)
        self.export_button = QPushButton(self.tr("Export my data (JSON)…"))
        layout.addWidget(self.export_button)
        column.addWidget(box)

        # the server this computer runs (shown only when it does)
        self.local_server_box = box = QGroupBox(self.tr("Server on this computer"))
        layout = QVBoxLayout(box)
        self.local_server_status = QLabel()
        self.local_server_status.setWordWrap(True)
        layout.addWidget(self.local_server_status)
        self.local_server_offline = QLabel()
        self.local_server_offline.setWordWrap(True)
        layout.addWidget(self.local_server_offline)
        self.remove_local_server_button = QPushButton(self.tr("Stop and remove the server…"))
        self.remove_local_server_button.clicked.connect(self.remove_local_server_requested)
        layout.addWidget(self.remove_local_server_button)
        box.hide()
        column.addWidget(box)

        # preferences
        box = QGroupBox(self.tr("This app"))
        layout = QVBoxLayout(box)
        self.notifications = QCheckBox(
            self.tr("Notify me when a device goes offline or raises an alert")
        )
        layout.addWidget(self.notifications)
        row = QHBoxLayout()
        row.addWidget(QLabel(self.tr("Language")))
        self.language = QComboBox()
        self.language.addItem(self.tr("Same as the system"), SYSTEM)
        for code, name in LANGUAGES.items():  # each language in its own words
            self.language.addItem(name, code)
        row.addWidget(self.language)
        row.addSpacing(24)
        row.addWidget(QLabel(self.tr("Temperatures in")))
        self.temperature_unit = QComboBox()
        self.temperature_unit.addItem(self.tr("Same as the system"), SYSTEM_UNIT)
        self.temperature_unit.addItem(self.tr("°C"), CELSIUS)
        self.temperature_unit.addItem(self.tr("°F"), FAHRENHEIT)
        row.addWidget(self.temperature_unit)
        row.addStretch(1)
        layout.addLayout(row)
        self.language_note = MessageLabel()
        layout.addWidget(self.language_note)
        self.keyring_note = QLabel()
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setStyleSheet(MUTED_STYLE)
        layout.addWidget(self.keyring_note)
        column.addWidget(box)

        # deletion
        box = QGroupBox(self.tr("Delete account"))
        layout = QVBoxLayout(box)
        warning = QLabel(
            self.tr(
                "This deletes your account, unbinds your devices and erases "
                "their history. It cannot be undone."
            )
        )
        warning.setWordWrap(True)
        layout.addWidget(warning)
        self.delete_password = QLineEdit()
        self.delete_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.delete_password.setPlaceholderText(self.tr("Your password"))
        layout.addWidget(self.delete_password)
        self.delete_understood = QCheckBox(self.tr("I understand that this cannot be undone"))
        layout.addWidget(self.delete_understood)
        self.delete_button = QPushButton(self.tr("Delete my account…"))
        layout.addWidget(self.delete_button)
        column.addWidget(box)
        column.addStretch(1)

        self.session_ids: list[str] = []
        self.back_button.clicked.connect(self.back_requested)
        self.new_password.textChanged.connect(self.checklist.update_for)
        self.change_password_button.clicked.connect(
            lambda: self.change_password_requested.emit(
                self.current_password.text(), self.new_password.text()
            )
        )
        self.refresh_sessions_button.clicked.connect(self.refresh_sessions_requested)
        self.end_session_button.clicked.connect(self._end_selected)
        self.export_button.clicked.connect(self.export_requested)
        self.notifications.toggled.connect(self.notifications_changed)
        self.language.activated.connect(
            lambda index: self.language_chosen.emit(self.language.itemData(index))
        )
        self.temperature_unit.activated.connect(
            lambda index: self.temperature_unit_chosen.emit(self.temperature_unit.itemData(index))
        )
        self.delete_button.clicked.connect(
            lambda: self.delete_requested.emit(self.delete_password.text())
        )
        for widget in (self.delete_password, self.delete_understood):
            signal = widget.textChanged if isinstance(widget, QLineEdit) else widget.toggled
            signal.connect(self._update_delete)
        self.sessions.itemSelectionChanged.connect(self._update_end)
        self._update_delete()
        self._update_end()

    def keyPressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Esc leaves the page, like its Back button (no field here uses Esc itself)."""
        if event.key() == Qt.Key.Key_Escape:
            event.accept()
            self.back_requested.emit()
            return
        super().keyPressEvent(event)

    def show_temperature_unit(self, choice: str) -> None:
        self.temperature_unit.setCurrentIndex(max(0, self.temperature_unit.findData(choice)))

    def show_language(self, choice: str) -> None:
        """Select the saved choice without announcing it as the user's."""
        self.language.setCurrentIndex(max(0, self.language.findData(choice)))

    def show_sessions(self, rows: list[tuple[str, str, str, str, bool]]) -> None:
        """rows: (id, app, signed in, last used, current)."""
        self.sessions.setRowCount(len(rows))
        self.session_ids = [row[0] for row in rows]
        self._current = {row[0] for row in rows if row[4]}
        for index, (_id, app, created, used, current) in enumerate(rows):
            label = app + ("  " + self.tr("(this app)") if current else "")
            for column, text in enumerate((label, created, used)):
                self.sessions.setItem(index, column, QTableWidgetItem(text))
        self._update_end()

    def _end_selected(self) -> None:
        rows = self.sessions.selectionModel().selectedRows()
        if rows:
            self.end_session_requested.emit(self.session_ids[rows[0].row()])

    def _update_end(self) -> None:
        rows = self.sessions.selectionModel().selectedRows()
        current: set[str] = getattr(self, "_current", set())
        self.end_session_button.setEnabled(
            bool(rows) and self.session_ids[rows[0].row()] not in current
        )

    def _update_delete(self, *_args) -> None:
        self.delete_button.setEnabled(
            bool(self.delete_password.text()) and self.delete_understood.isChecked()
        )

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
