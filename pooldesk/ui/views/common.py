"""Small building blocks the screens share."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from pooldesk.ui.theme import is_dark

ERROR_STYLE = "color: #b3261e;"
OK_STYLE = "color: #1b6e3a;"
MUTED_STYLE = "color: #6b6b6b;"
# On the dark window the light theme's red and green fall under 3:1; these keep 4.5:1.
DARK_STYLES = {ERROR_STYLE: "color: #ff8f85;", OK_STYLE: "color: #6fcf8f;"}


def themed(style: str, widget: QWidget) -> str:
    """`style` for the scheme the widget is shown in (its palette)."""
    return DARK_STYLES.get(style, style) if is_dark(widget.palette()) else style


def reserve_space(label: QLabel, lines: int) -> None:
    """Keep a message's room in the layout while it is hidden, so the fields below do not move
    when it appears (a click aimed at one field would land in the next)."""
    policy = label.sizePolicy()
    policy.setRetainSizeWhenHidden(True)
    label.setSizePolicy(policy)
    label.setMinimumHeight(lines * label.fontMetrics().lineSpacing())


class MessageLabel(QLabel):
    """A line for errors or notices; hidden while empty, its room kept (`lines` of it).

    `sticky` messages belong to something that outlives the page (a device card): the window
    does not clear them when the user goes to another page."""

    def __init__(
        self, parent: QWidget | None = None, *, lines: int = 2, sticky: bool = False
    ) -> None:
        super().__init__(parent)
        self.sticky = sticky
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if lines:
            reserve_space(self, lines)
        self.hide()

    def show_error(self, text: str) -> None:
        self._show(text, ERROR_STYLE)

    def show_info(self, text: str) -> None:
        self._show(text, OK_STYLE)

    def _show(self, text: str, style: str) -> None:
        style = themed(style, self)
        if self.styleSheet() != style:
            self.setStyleSheet(style)
        self.setText(text)
        self.setVisible(bool(text))

    def clear_message(self) -> None:
        self.setText("")
        self.hide()


class BusyBar(QProgressBar):
    """An indeterminate progress bar shown while waiting for the server."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(0, 0)
        self.setTextVisible(False)
        self.setMaximumHeight(6)
        policy = self.sizePolicy()
        policy.setRetainSizeWhenHidden(True)  # appearing must not move the form
        self.setSizePolicy(policy)
        self.hide()


class FieldHint(QLabel):
    """Live feedback under an input field."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setStyleSheet(ERROR_STYLE)
        reserve_space(self, 1)
        self.hide()

    def set_problem(self, text: str | None) -> None:
        style = themed(ERROR_STYLE, self)
        if self.styleSheet() != style:
            self.setStyleSheet(style)
        self.setText(text or "")
        self.setVisible(bool(text))


class ConfirmDialog(QDialog):
    """A yes/no question opened with open() (no nested event loop); emits accepted/rejected."""

    def __init__(self, title: str, text: str, confirm: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumWidth(420)  # a question reads as sentences, not a narrow column
        layout = QVBoxLayout(self)
        label = QLabel(text)
        label.setWordWrap(True)
        layout.addWidget(label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.confirm_button = self.buttons.addButton(
            confirm, QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        # The safe answer is the default: Return (or a hurried click on the default) keeps
        # things as they are; the action needs its own button.
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.confirm_button.setAutoDefault(False)
        self.cancel_button.setAutoDefault(True)
        self.cancel_button.setDefault(True)
        self.cancel_button.setFocus()


class TextDialog(QDialog):
    """Ask for one line of text, checked as it is typed."""

    submitted = Signal(str)

    def __init__(self, title: str, label: str, value: str, check, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self._check = check
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(label))
        self.field = QLineEdit(value)
        layout.addWidget(self.field)
        self.hint = FieldHint()
        layout.addWidget(self.hint)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.field.textChanged.connect(self._validate)
        self._validate(value)

    def _validate(self, text: str) -> None:
        problem = self._check(text)
        self.hint.set_problem(problem)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(problem is None)

    def _submit(self) -> None:
        if self._check(self.field.text()) is None:
            self.submitted.emit(self.field.text().strip())
            self.accept()
