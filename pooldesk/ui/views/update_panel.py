"""The firmware part of a device card: "update available", a progress bar while it installs,
and what happened (docs/updates.md). Worded by `pooldesk.core.updates`."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from pooldesk.core.updates import FirmwareInfo, UpdateInfo
from pooldesk.ui.views.common import ERROR_STYLE, MUTED_STYLE


class UpdatePanel(QFrame):
    install_requested = Signal(str, str)  # device key, version

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.offered: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        row = QHBoxLayout()
        self.text = QLabel()
        self.text.setWordWrap(True)
        row.addWidget(self.text, 1)
        self.install = QPushButton(self.tr("Install…"))
        self.install.clicked.connect(self._install_clicked)
        row.addWidget(self.install)
        layout.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        layout.addWidget(self.progress)
        self.hide()

    def _install_clicked(self) -> None:
        if self.offered is not None:
            self.install_requested.emit(self.key, self.offered)

    def describe(self, u: UpdateInfo) -> str:
        """One line for the owner: what is happening, or what happened and why (the reason is
        the controller's own words)."""
        reason = u.reason or self.tr("no reason given")
        texts = {
            "requested": self.tr("Waiting for the controller to take firmware {v}…"),
            "offered": self.tr("Firmware {v} offered to the controller…"),
            "downloading": self.tr("Downloading firmware {v}: {p}%"),
            "verifying": self.tr("Checking the signature and files of {v}…"),
            "installed": self.tr("Firmware {v} installed; the controller restarts…"),
            "confirmed": self.tr("Updated to {v}: the controller is back online with it."),
            "rolled_back": self.tr(
                "Version {v} did not work on the controller, so it went back to the version "
                "before by itself ({r})."
            ),
            "failed": self.tr("Version {v} was not installed ({r}). Nothing changed."),
        }
        text = texts.get(u.state, "{v}: " + u.state)
        return text.format(v=u.version, p=u.progress or 0, r=reason)

    def show_firmware(self, fw: FirmwareInfo) -> None:
        update = fw.update
        busy = fw.busy
        self.offered = fw.available if not busy else None
        lines, style = [], MUTED_STYLE
        if update is not None and (busy or update.state != "confirmed" or fw.available is None):
            lines.append(self.describe(update))
            if update.state in ("rolled_back", "failed"):
                style = ERROR_STYLE
            elif busy:
                style = ""
        if self.offered is not None:
            if fw.running:
                line = self.tr("Firmware {v} is available (this controller runs {r}).")
            else:
                line = self.tr("Firmware {v} is available.")
            lines.append(line.format(v=self.offered, r=fw.running))
            style = "" if style == MUTED_STYLE else style
        self.text.setText("\n".join(lines))
        self.text.setStyleSheet(style)
        self.install.setVisible(self.offered is not None)
        self.progress.setVisible(busy)
        if update is not None:
            self.progress.setValue(update.percent)
        self.setVisible(bool(lines))
