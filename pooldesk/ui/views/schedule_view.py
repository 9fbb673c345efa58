"""Run windows per weekday: start, end (may cross midnight) and the days it starts on."""

from __future__ import annotations

from PySide6.QtCore import QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from pooldesk.ui.theme import THEMED, field_style
from pooldesk.ui.views.common import MUTED_STYLE, BusyBar, MessageLabel

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_WINDOWS = 16


class WindowRow:
    def __init__(self, grid: QGridLayout, row: int, labels: dict[str, str]) -> None:
        self.start = QTimeEdit(QTime(8, 0))
        self.end = QTimeEdit(QTime(12, 0))
        for edit in (self.start, self.end):
            edit.setDisplayFormat("HH:mm")
        self.days = {day: QCheckBox(labels[day]) for day in DAYS}
        self.remove = QPushButton("✕")
        self.remove.setFixedWidth(28)
        grid.addWidget(self.start, row, 0)
        grid.addWidget(self.end, row, 1)
        days_box = QHBoxLayout()
        for box in self.days.values():
            box.setChecked(True)
            days_box.addWidget(box)
        holder = QWidget()
        holder.setLayout(days_box)
        self.holder = holder
        grid.addWidget(holder, row, 2)
        grid.addWidget(self.remove, row, 3)

    def widgets(self) -> list[QWidget]:
        return [self.start, self.end, self.holder, self.remove]

    def value(self) -> dict:
        return {
            "start": self.start.time().toString("HH:mm"),
            "end": self.end.time().toString("HH:mm"),
            "days": [day for day, box in self.days.items() if box.isChecked()],
        }

    def set_value(self, window: dict) -> None:
        self.start.setTime(QTime.fromString(str(window.get("start", "08:00")), "HH:mm"))
        self.end.setTime(QTime.fromString(str(window.get("end", "12:00")), "HH:mm"))
        days = set(window.get("days") or [])
        for day, box in self.days.items():
            box.setChecked(day in days)


class ScheduleView(QDialog):
    save_requested = Signal(list)
    closed = Signal()

    def __init__(self, title: str, timezone: str, parent=None) -> None:
        super().__init__(parent)
        self._closed_emitted = False
        self.setProperty(THEMED, True)
        self.setStyleSheet(field_style())
        self.setWindowTitle(title)
        self.resize(640, 360)
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "The pump runs inside these windows when it follows the schedule. "
                "A window whose end is before its start runs past midnight. "
                "Times are in {tz}."
            ).format(tz=timezone)
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.grid = QGridLayout()
        headers = (self.tr("Start"), self.tr("End"), self.tr("Days"))
        for column, text in enumerate(headers):
            label = QLabel(text)
            label.setStyleSheet(MUTED_STYLE)
            self.grid.addWidget(label, 0, column)
        layout.addLayout(self.grid)
        self.empty = QLabel(self.tr("No run windows: the pump only runs when switched on."))
        self.empty.setStyleSheet(MUTED_STYLE)
        layout.addWidget(self.empty)
        layout.addStretch(1)
        self.busy = BusyBar()
        layout.addWidget(self.busy)
        self.status = MessageLabel()
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.add_button = QPushButton(self.tr("Add window"))
        self.save_button = QPushButton(self.tr("Send to controller"))
        self.save_button.setDefault(True)
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        self.rows: list[WindowRow] = []
        self.read_only = ""  # why the schedule cannot be changed here ("" : it can)
        self._labels = {
            "mon": self.tr("Mon"),
            "tue": self.tr("Tue"),
            "wed": self.tr("Wed"),
            "thu": self.tr("Thu"),
            "fri": self.tr("Fri"),
            "sat": self.tr("Sat"),
            "sun": self.tr("Sun"),
        }
        self.add_button.clicked.connect(lambda: self.add_row())
        self.save_button.clicked.connect(lambda: self.save_requested.emit(self.windows()))
        self._update()

    def add_row(self, window: dict | None = None) -> WindowRow:
        row = WindowRow(self.grid, len(self.rows) + 1, self._labels)
        if window:
            row.set_value(window)
        row.remove.clicked.connect(lambda: self.remove_row(row))
        self.rows.append(row)
        self._update()
        return row

    def remove_row(self, row: WindowRow) -> None:
        for widget in row.widgets():
            self.grid.removeWidget(widget)
            widget.deleteLater()
        self.rows.remove(row)
        self._update()

    def set_windows(self, windows: list[dict]) -> None:
        for row in list(self.rows):
            self.remove_row(row)
        for window in windows[:MAX_WINDOWS]:
            self.add_row(window)

    def windows(self) -> list[dict]:
        return [row.value() for row in self.rows]

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.save_button.setEnabled(not busy and not self.read_only)

    def set_read_only(self, why: str) -> None:
        """Show the schedule without letting it be changed (a viewer); `why` on every control."""
        self.read_only = why
        for row in self.rows:
            for widget in row.widgets():
                if not isinstance(widget, QLabel):
                    widget.setEnabled(False)
                    widget.setToolTip(why)
        for button in (self.add_button, self.save_button):
            button.setEnabled(False)
            button.setToolTip(why)

    def _update(self) -> None:
        self.empty.setVisible(not self.rows)
        self.add_button.setEnabled(len(self.rows) < MAX_WINDOWS and not self.read_only)

    def done(self, result: int) -> None:
        """Every way out (Esc, the window's close button, close()) ends here: Esc only calls
        reject(), never closeEvent(), so `closed` is emitted from here, once."""
        super().done(result)
        if not self._closed_emitted:
            self._closed_emitted = True
            self.closed.emit()
