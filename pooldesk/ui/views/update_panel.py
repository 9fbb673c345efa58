"""The firmware part of a device card: "update available", a progress bar while it installs,
and what happened (docs/updates.md). Worded by `pooldesk.core.updates`."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout

from pooldesk.core.updates import FirmwareInfo
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

    def show_firmware(self, fw: FirmwareInfo) -> None:
        update = fw.update
        busy = fw.busy
        self.offered = fw.available if not busy else None
        lines, style = [], MUTED_STYLE
        if update is not None and (busy or update.state != "confirmed" or fw.available is None):
            lines.append(update.text)
            if update.state in ("rolled_back", "failed"):
                style = ERROR_STYLE
            elif busy:
                style = ""
        if self.offered is not None:
            running = f" (this controller runs {fw.running})" if fw.running else ""
            lines.append(self.tr("Firmware {v} is available{r}.").format(v=self.offered, r=running))
            style = "" if style == MUTED_STYLE else style
        self.text.setText("\n".join(lines))
        self.text.setStyleSheet(style)
        self.install.setVisible(self.offered is not None)
        self.progress.setVisible(busy)
        if update is not None:
            self.progress.setValue(update.percent)
        self.setVisible(bool(lines))
