"""History window: loads /api/history for 24 h or 7 days, then appends live values."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from pooldesk.core.backend_client import ApiError
from pooldesk.core.models import HistoryEvent
from pooldesk.ui import format as fmt
from pooldesk.ui.views.history_view import RANGES, HistoryView
from pooldesk_contract import topics

if TYPE_CHECKING:
    from pooldesk.ui.controllers.dashboard import DashboardController

# history event types, as the recorder stores them (pooldesk_contract.topics.RECORDED)
PUMP_TYPES = {topics.RECORDED["pump/state"]}
TELEMETRY_TYPES = {topics.RECORDED["telemetry"]}
MAX_PAGES = 20
PAGE = 1000


class HistoryController(QObject):
    closed = Signal()

    def __init__(self, dashboard: DashboardController, key: str) -> None:
        super().__init__(dashboard)
        self.dashboard = dashboard
        self.key = key
        device = dashboard.store.devices[key]
        self.device_id = device.device_id
        self.view = HistoryView(
            self.tr("History of {name}").format(name=device.name), dashboard.view.window()
        )
        self.range = "day"
        self.temperature: list[tuple[float, float]] = []
        self.pump: list[tuple[float, int]] = []
        self.loaded = False
        self.view.range_chosen.connect(self.choose)
        self.view.closed.connect(self._closed)
        dashboard.store.subscribe(self._live)
        self.view.show()
        self.choose("day")

    def raise_(self) -> None:
        self.view.raise_()
        self.view.activateWindow()

    def close(self) -> None:
        self.view.close()

    def _closed(self) -> None:
        self.dashboard.store.unsubscribe(self._live)
        self.closed.emit()
        self.view.deleteLater()

    def choose(self, range_key: str) -> None:
        self.range = range_key
        self.view.range_buttons[range_key].setChecked(True)
        self.dashboard.tasks.spawn(self.load())

    async def load(self) -> None:
        self.loaded = False
        self.view.status.show_info(self.tr("Loading…"))
        since = datetime.now(UTC) - timedelta(seconds=RANGES[self.range])
        events: list[HistoryEvent] = []
        cursor = None
        try:
            for _ in range(MAX_PAGES):
                page = await self.dashboard.signed_in.client.history(
                    self.device_id, since=since, limit=PAGE, cursor=cursor
                )
                events.extend(page.events)
                cursor = page.next_cursor
                if not cursor:
                    break
        except ApiError as exc:
            self.view.status.show_error(fmt.core_message(exc.message))
            return
        self.temperature, self.pump = [], []
        for event in sorted(events, key=lambda e: e.ts):
            self._add(event.type, event.data, event.ts.timestamp())
        self.loaded = True
        if not events:
            self.view.status.show_info(self.tr("Nothing recorded in this period yet."))
        else:
            self.view.status.clear_message()
        self._draw()

    def _add(self, kind: str, data: dict, ts: float) -> None:
        if kind in TELEMETRY_TYPES and isinstance(data.get("water_c"), int | float):
            self.temperature.append((ts, float(data["water_c"])))
        elif kind in PUMP_TYPES and "on" in data:
            self.pump.append((ts, 1 if data.get("on") else 0))

    def _live(self, key: str, what: str) -> None:
        if key != self.key or not self.loaded:
            return
        device = self.dashboard.store.devices.get(key)
        if device is None:
            return
        now = time.time()
        if what == "telemetry" and device.water_c is not None:
            self.temperature.append((now, device.water_c))
        elif what == "pump" and device.pump is not None:
            self.pump.append((now, 1 if device.pump.on else 0))
        else:
            return
        self._draw()

    def _draw(self) -> None:
        until = time.time()
        since = until - RANGES[self.range]
        self.view.show_series(
            [p for p in self.temperature if p[0] >= since], self.pump, since, until
        )
