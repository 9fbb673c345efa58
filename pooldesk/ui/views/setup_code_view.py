"""The owner's set-up code screen: a one-time code for an installer, as text and QR code,
with its countdown and the other codes still alive. Widgets only."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPainter
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from pooldesk.ui.views.common import BusyBar, MessageLabel
from pooldesk.ui.views.people_view import _Dialog, _fit, _heading, _muted, clear_layout

QUIET_ZONE = 4  # modules of white around a QR code, as scanners expect


class QrCode(QWidget):
    """Draws a QR code's modules, black on white whatever the theme (scanners need that)."""

    def __init__(self, module_px: int = 6, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.modules: list[list[bool]] = []
        self.module_px = module_px
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_modules(self, modules: list[list[bool]]) -> None:
        self.modules = modules
        self.updateGeometry()
        self.setFixedSize(self.sizeHint())
        self.update()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self.sizeHint()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        side = (len(self.modules) + 2 * QUIET_ZONE) * self.module_px if self.modules else 0
        return QSize(side, side)

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's name
        if not self.modules:
            return
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        px = self.module_px
        for y, row in enumerate(self.modules):
            for x, dark in enumerate(row):
                if dark:
                    painter.fillRect(
                        QRectF((x + QUIET_ZONE) * px, (y + QUIET_ZONE) * px, px, px),
                        QColor("black"),
                    )
        painter.end()


class SetupCodeView(_Dialog):
    create_requested = Signal()
    withdraw_requested = Signal(str)  # code id

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        layout = QVBoxLayout(self)
        layout.addWidget(_heading(self.tr("Let an installer set up a controller for you")))
        self.note = _muted(
            self.tr("The installer signs in to their own PoolDesk account, runs “Add device” "
                    "and enters this code with the controller's claim code. The controller is "
                    "added to your account; the installer keeps no access to it. A code works "
                    "once, for 15 minutes.")
        )  # fmt: skip
        layout.addWidget(self.note)
        self.create_button = QPushButton(self.tr("Create a set-up code"))
        layout.addWidget(self.create_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.code_box = QWidget()
        code_row = self._code_row = QHBoxLayout(self.code_box)
        code_row.setContentsMargins(0, 8, 0, 8)
        self.qr = QrCode()
        code_row.addWidget(self.qr, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        self.code = QLabel()
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSize(mono.pointSize() + 8)
        mono.setWeight(QFont.Weight.Bold)
        self.code.setFont(mono)
        self.code.setObjectName("setupCode")
        text.addWidget(self.code)
        self.expiry = QLabel()
        self.expiry.setWordWrap(True)
        text.addWidget(self.expiry)
        self.read_out = _muted()  # how to pass it on
        text.addWidget(self.read_out)
        text.addStretch(1)
        code_row.addLayout(text, 1)
        layout.addWidget(self.code_box)
        self.code_box.hide()
        self.live_heading = QLabel()
        layout.addWidget(self.live_heading)
        self.live_box = QVBoxLayout()
        layout.addLayout(self.live_box)
        layout.addStretch(1)
        self.busy = BusyBar()
        layout.addWidget(self.busy)
        self.message = MessageLabel()
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.withdraw_buttons: dict[str, QPushButton] = {}
        self.create_button.clicked.connect(self.create_requested)

    def show_code(self, code: str, modules: list[list[bool]]) -> None:
        self.code.setText(code)
        self.qr.set_modules(modules)
        # The text beside the code wraps, and a row with wrapping text is laid out by its
        # height for a width: give the row the code's full height explicitly.
        margins = self._code_row.contentsMargins()
        self.code_box.setMinimumHeight(self.qr.height() + margins.top() + margins.bottom())
        self.code_box.show()
        _fit(self)

    def show_expiry(self, text: str, expired: bool) -> None:
        self.expiry.setText(text)
        self.expiry.setStyleSheet("color: #b3261e;" if expired else "")
        self.qr.setVisible(not expired)
        self.code.setEnabled(not expired)
        _fit(self)

    def show_live(self, heading: str, rows: list[tuple[str, str, str]]) -> None:
        """Codes still alive: (id, text, button text) each, with a button to withdraw it."""
        clear_layout(self.live_box)
        self.withdraw_buttons.clear()
        for code_id, text, button_text in rows:
            holder = QWidget()
            row = QHBoxLayout(holder)
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(QLabel(text), 1)
            button = QPushButton(button_text)
            button.clicked.connect(lambda _c=False, i=code_id: self.withdraw_requested.emit(i))
            row.addWidget(button)
            self.withdraw_buttons[code_id] = button
            self.live_box.addWidget(holder)
        self.live_heading.setText(heading)
        self.live_heading.setVisible(bool(rows))
        _fit(self)

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.create_button.setEnabled(not busy)
