"""The "Add device" wizard's window: five pages, a message line and Cancel. Widgets only.

The controller (`controller.py`) words every text and decides which page shows; this view lays
out, shows what it is told and emits signals.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from pooldesk.ui.theme import THEMED, field_style
from pooldesk.ui.views.common import BusyBar, FieldHint, MessageLabel

OTHER_NETWORK = "\x00other"  # item data of the "Other network…" entry


def _heading(text: str = "") -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setPointSize(font.pointSize() + 3)
    font.setBold(True)
    label.setFont(font)
    label.setWordWrap(True)
    return label


def _note(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


class ScanPage(QWidget):
    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        self.heading = _heading()
        self.note = _note()
        # Change Wi-Fi: an online controller keeps Bluetooth off until its button is pressed.
        self.wake_step = _note()
        self.wake_step.setObjectName("wakeStep")
        self.wake_step.setTextFormat(Qt.TextFormat.RichText)
        self.wake_step.setStyleSheet(
            "#wakeStep { border: 2px solid #1e88e5; border-radius: 6px; padding: 8px; }"
        )
        self.wake_step.hide()
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.devices = QListWidget()
        buttons = QHBoxLayout()
        self.rescan = QPushButton()
        self.next = QPushButton()
        self.next.setDefault(True)
        buttons.addWidget(self.rescan)
        buttons.addStretch(1)
        buttons.addWidget(self.next)
        for widget in (self.heading, self.note, self.wake_step, self.progress, self.devices):
            layout.addWidget(widget)
        layout.addLayout(buttons)


class ClaimPage(QWidget):
    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        self.heading = _heading()
        self.identify_note = _note()
        self.identify = QPushButton()
        self.claim_label = _note()
        self.claim = QLineEdit()
        self.claim.setInputMethodHints(Qt.InputMethodHint.ImhNoPredictiveText)
        self.hint = FieldHint()
        # Installer: the controller goes to the account of whoever gave the set-up code.
        self.for_someone = QCheckBox()
        self.setup_note = _note()
        self.setup_code = QLineEdit()
        self.setup_code.setInputMethodHints(Qt.InputMethodHint.ImhNoPredictiveText)
        self.setup_hint = FieldHint()
        buttons = QHBoxLayout()
        self.back = QPushButton()
        self.open = QPushButton()
        self.open.setDefault(True)
        buttons.addWidget(self.back)
        buttons.addStretch(1)
        buttons.addWidget(self.open)
        for widget in (self.heading, self.identify_note, self.identify, self.claim_label):
            layout.addWidget(widget)
        layout.addWidget(self.claim)
        layout.addWidget(self.hint)
        installer: tuple[QWidget, ...] = (
            self.for_someone,
            self.setup_note,
            self.setup_code,
            self.setup_hint,
        )
        for part in installer:
            layout.addWidget(part)
        self.for_someone.toggled.connect(self._for_someone)
        self._for_someone(False)
        layout.addStretch(1)
        layout.addLayout(buttons)

    def _for_someone(self, on: bool) -> None:
        for widget in (self.setup_note, self.setup_code):
            widget.setVisible(on)
        if not on:
            self.setup_hint.set_problem(None)


class WifiPage(QWidget):
    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        self.heading = _heading()
        self.note = _note()
        self.networks = QListWidget()
        self.other_label = _note()
        self.other_ssid = QLineEdit()
        self.password_label = _note()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.name_label = _note()
        self.name = QLineEdit()
        self.name.setMaxLength(64)
        self.hint = FieldHint()
        buttons = QHBoxLayout()
        self.rescan = QPushButton()
        self.connect_button = QPushButton()
        self.connect_button.setDefault(True)
        buttons.addWidget(self.rescan)
        buttons.addStretch(1)
        buttons.addWidget(self.connect_button)
        for widget in (
            self.heading, self.note, self.networks, self.other_label, self.other_ssid,
            self.password_label, self.password, self.name_label, self.name, self.hint,
        ):  # fmt: skip
            layout.addWidget(widget)
        layout.addLayout(buttons)
        self.networks.currentItemChanged.connect(lambda *_: self._other_shown())
        self._other_shown()

    def chosen_ssid(self) -> str:
        item = self.networks.currentItem()
        if item is None:
            return ""
        data = item.data(Qt.ItemDataRole.UserRole)
        return self.other_ssid.text().strip() if data == OTHER_NETWORK else str(data)

    def _other_shown(self) -> None:
        item = self.networks.currentItem()
        other = item is not None and item.data(Qt.ItemDataRole.UserRole) == OTHER_NETWORK
        self.other_label.setVisible(other)
        self.other_ssid.setVisible(other)


class ProgressPage(QWidget):
    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        self.heading = _heading()
        layout.addWidget(self.heading)
        self.lines: list[QLabel] = []
        self._lines_layout = QVBoxLayout()
        layout.addLayout(self._lines_layout)
        self.advice = MessageLabel()
        layout.addWidget(self.advice)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        self.password_again = QPushButton()
        self.rescan = QPushButton()
        self.retry = QPushButton()
        buttons.addStretch(1)
        for button in (self.password_again, self.rescan, self.retry):
            button.hide()
            buttons.addWidget(button)
        layout.addLayout(buttons)

    def show_lines(self, texts: list[str]) -> None:
        while len(self.lines) < len(texts):
            label = QLabel()
            label.setTextFormat(Qt.TextFormat.RichText)
            self.lines.append(label)
            self._lines_layout.addWidget(label)
        for label, text in zip(self.lines, texts, strict=False):
            label.setText(text)
        for index, label in enumerate(self.lines):
            label.setVisible(index < len(texts))


class DonePage(QWidget):
    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        self.heading = _heading()
        self.note = _note()
        layout.addWidget(self.heading)
        layout.addWidget(self.note)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        self.finish = QPushButton()
        self.finish.setDefault(True)
        buttons.addStretch(1)
        buttons.addWidget(self.finish)
        layout.addLayout(buttons)


class WizardView(QDialog):
    """Closing the window (Esc, the title bar's ×) counts as Cancel: `cancel_requested`."""

    cancel_requested = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(False)
        self.setProperty(THEMED, True)  # its own window: fields visible in the dark theme too
        self.setStyleSheet(field_style())
        self.resize(560, 520)
        layout = QVBoxLayout(self)
        self.stack = QStackedWidget()
        self.scan_page = ScanPage()
        self.claim_page = ClaimPage()
        self.wifi_page = WifiPage()
        self.progress_page = ProgressPage()
        self.done_page = DonePage()
        for page in (
            self.scan_page, self.claim_page, self.wifi_page, self.progress_page, self.done_page,
        ):  # fmt: skip
            self.stack.addWidget(page)
        layout.addWidget(self.stack, 1)
        self.busy = BusyBar()
        layout.addWidget(self.busy)
        self.message = MessageLabel()
        layout.addWidget(self.message)
        bottom = QHBoxLayout()
        bottom.addStretch(1)
        self.cancel = QPushButton()
        self.cancel.setAutoDefault(False)
        bottom.addWidget(self.cancel)
        layout.addLayout(bottom)
        self.cancel.clicked.connect(self.cancel_requested)
        self._closing_allowed = False

    @property
    def page(self) -> QWidget:
        page = self.stack.currentWidget()
        assert page is not None  # the stack holds every page from the start
        return page

    def show_page(self, page: QWidget) -> None:
        self.stack.setCurrentWidget(page)
        # Return presses the page's own default (Finish on the last page), never Cancel; and
        # there is nothing left to cancel once the controller is online.
        self.cancel.setVisible(page is not self.done_page)
        if page is self.done_page:
            self.done_page.finish.setFocus()

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)

    @staticmethod
    def fill(widget: QListWidget, items: list[tuple[str, str]], keep: str | None = None) -> None:
        """Replace a list's items with (text, data); re-select `keep` (data) when still there."""
        widget.clear()
        for text, data in items:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, data)
            widget.addItem(item)
            if data == keep:
                widget.setCurrentItem(item)
        if widget.currentItem() is None and widget.count():
            widget.setCurrentRow(0)

    def close_for_good(self) -> None:
        """Close without counting as a cancel (after Finish or a completed cancel)."""
        self._closing_allowed = True
        self.close()

    def reject(self) -> None:  # Esc
        if self._closing_allowed:
            super().reject()
        else:
            self.cancel_requested.emit()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if self._closing_allowed:
            super().closeEvent(event)
            return
        event.ignore()
        self.cancel_requested.emit()
