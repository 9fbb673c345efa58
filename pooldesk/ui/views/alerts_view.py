"""One controller's alerts: active ones first (most severe first), then the cleared ones."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QVBoxLayout,
)

from pooldesk.ui.theme import THEMED, field_style, tile_colors

ICONS = {
    "critical": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
}


class AlertsView(QDialog):
    closed = Signal()

    def __init__(self, title: str, parent=None) -> None:
        super().__init__(parent)
        self._closed_emitted = False
        self.setProperty(THEMED, True)
        self.setStyleSheet(field_style())
        self.setWindowTitle(title)
        self.resize(520, 360)
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        layout.addWidget(self.list, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def show_entries(self, summary: str, rows: list[tuple[str, str, bool]]) -> None:
        """rows: (severity, text, active); cleared ones in the muted colour."""
        self.summary.setText(summary)
        self.list.clear()
        for severity, text, active in rows:
            item = QListWidgetItem(
                self.style().standardIcon(ICONS.get(severity, ICONS["info"])), text
            )
            if not active:  # cleared: quieter, yet readable (4.5:1, unlike a disabled item)
                item.setForeground(QColor(tile_colors(self.palette())["muted"]))
            self.list.addItem(item)

    def done(self, result: int) -> None:
        """Esc, the close button and close() all end here (Esc never calls closeEvent)."""
        super().done(result)
        if not self._closed_emitted:
            self._closed_emitted = True
            self.closed.emit()
