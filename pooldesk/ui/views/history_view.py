"""Water temperature and pump on/off over time (pyqtgraph; QtCharts is not shipped)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from pooldesk.ui.theme import THEMED, field_style
from pooldesk.ui.views.common import MessageLabel

RANGES = {"day": 24 * 3600, "week": 7 * 24 * 3600}
MIN_SPAN = 2.0  # °C: the least height of the temperature axis


class HistoryView(QDialog):
    range_chosen = Signal(str)
    closed = Signal()

    def __init__(self, title: str, parent=None) -> None:
        super().__init__(parent)
        self._closed_emitted = False
        self.setProperty(THEMED, True)
        self.setStyleSheet(field_style())
        self.setWindowTitle(title)
        self.resize(760, 480)
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.heading = QLabel(title)
        top.addWidget(self.heading, 1)
        self.range_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        for key, label in (("day", self.tr("24 hours")), ("week", self.tr("7 days"))):
            button = QPushButton(label)
            button.setCheckable(True)
            group.addButton(button)
            top.addWidget(button)
            self.range_buttons[key] = button
            button.clicked.connect(lambda _c=False, k=key: self.range_chosen.emit(k))
        self.range_buttons["day"].setChecked(True)
        layout.addLayout(top)
        self.status = MessageLabel()
        layout.addWidget(self.status)
        pg.setConfigOptions(antialias=True, background="w", foreground="k")
        self.temperature_plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.temperature_plot.setLabel("left", self.tr("Water °C"))
        self.temperature_plot.showGrid(x=True, y=True, alpha=0.3)
        self.temperature_curve = self.temperature_plot.plot(
            [],
            [],
            pen=pg.mkPen("#1565c0", width=2),
            symbol="o",
            symbolSize=4,
            symbolBrush="#1565c0",
        )
        self.pump_plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.pump_plot.setLabel("left", self.tr("Pump"))
        self.pump_plot.setYRange(-0.1, 1.1)
        self.pump_plot.getAxis("left").setTicks([[(0, self.tr("off")), (1, self.tr("on"))]])
        self.pump_plot.setXLink(self.temperature_plot)
        self.pump_plot.setMaximumHeight(140)
        self.pump_curve = self.pump_plot.plot(
            [],
            [],
            stepMode="right",
            pen=pg.mkPen("#2e7d32", width=2),
            fillLevel=0,
            brush=(46, 125, 50, 60),
        )
        self._align_left_axes([self.tr("off"), self.tr("on"), "00.0"])
        for plot in (self.temperature_plot, self.pump_plot):
            plot.hideButtons()  # the library's own "A" button and developer menu are not ours
            plot.setMenuEnabled(False)
        layout.addWidget(self.temperature_plot, 3)
        layout.addWidget(self.pump_plot, 1)

    def _align_left_axes(self, labels: list[str]) -> None:
        """One width for both left axes, wide enough for the longest tick label in this
        language ("apagada"): the plots line up, and no label is dropped for lack of room."""
        metrics = self.fontMetrics()
        width = max(metrics.horizontalAdvance(label) for label in labels) + 2 * metrics.height()
        for plot in (self.temperature_plot, self.pump_plot):
            plot.getAxis("left").setWidth(width + 12)

    def show_series(
        self,
        temperature: list[tuple[float, float]],
        pump: list[tuple[float, int]],
        since: float,
        until: float,
    ) -> None:
        self.temperature_curve.setData([t for t, _ in temperature], [v for _, v in temperature])
        if pump:
            # Each state holds until the next change; the last one until now.
            xs = [t for t, _ in pump] + [until]
            ys = [v for _, v in pump] + [pump[-1][1]]
            self.pump_curve.setData(xs, ys)
        else:
            self.pump_curve.setData([], [])
        self.temperature_plot.setXRange(since, until, padding=0.01)
        values = [v for _, v in temperature]
        if values:
            # Sized to the data, but never narrower than MIN_SPAN: 24.63-24.66 °C is a flat
            # line, not a spike.
            low, high = min(values), max(values)
            middle, span = (low + high) / 2, max(high - low, MIN_SPAN)
            self.temperature_plot.setYRange(middle - span / 2, middle + span / 2, padding=0.1)

    def done(self, result: int) -> None:
        """Every way out (Esc, the window's close button, close()) ends here: Esc only calls
        reject(), never closeEvent(), so `closed` is emitted from here, once."""
        super().done(result)
        if not self._closed_emitted:
            self._closed_emitted = True
            self.closed.emit()
