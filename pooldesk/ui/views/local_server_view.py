"""'Run the server on this computer': what it means, this computer's network address, Start."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from pooldesk.ui.theme import THEMED, field_style
from pooldesk.ui.views.common import BusyBar, MessageLabel


class LocalServerView(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setProperty(THEMED, True)
        self.setStyleSheet(field_style())
        self.setWindowTitle(self.tr("Run the server on this computer"))
        self.resize(560, 420)
        layout = QVBoxLayout(self)
        self.intro = QLabel(
            self.tr(
                "PoolDesk runs its own server on this computer: your account, the history "
                "and a secure link for the pool controllers on your home network. It keeps "
                "running when you close this window and starts again when you sign in to "
                "this computer."
            )
        )
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.offline_note = QLabel(
            self.tr(
                "<b>While this computer is off</b>, the controllers keep running their "
                "schedules, timers and freeze protection on their own. The history and "
                "switching the pump from the app wait until the computer is on again."
            )
        )
        self.offline_note.setWordWrap(True)
        layout.addWidget(self.offline_note)
        layout.addWidget(QLabel(self.tr("This computer's address on your home network:")))
        self.lan_host = QLineEdit()
        layout.addWidget(self.lan_host)
        self.lan_note = QLabel(
            self.tr("The controllers connect to this address. Give this computer a fixed "
                    "address in your router so it does not change.")
        )  # fmt: skip
        self.lan_note.setWordWrap(True)
        layout.addWidget(self.lan_note)
        self.busy = BusyBar()
        layout.addWidget(self.busy)
        self.message = MessageLabel(lines=3)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.buttons = QDialogButtonBox()
        self.start = QPushButton(self.tr("Start the server"))
        self.start.setDefault(True)
        self.buttons.addButton(self.start, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel.clicked.connect(self.reject)
        layout.addWidget(self.buttons)
