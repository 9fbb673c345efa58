"""History window: loads /api/history for 24 h or 7 days, then appends live values."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from pooldesk.core.backend_client import ApiError, HistoryPage
from pooldesk.core.devices import DeviceStore
from pooldesk.core.models import HistoryEvent
from pooldesk.ui import format as fmt
from pooldesk.ui.views.history_view import RANGES, HistoryView
from pooldesk_contract import topics

# One page of a device's history: (device id, since, limit, cursor) -> the page (or ApiError).
FetchPage = Callable[[str, datetime, int, str | None], Awaitable[HistoryPage]]
Spawn = Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]

# history event types, as the recorder stores them (pooldesk_contract.topics.RECORDED)
PUMP_TYPES = {topics.RECORDED["pump/state"]}
TELEMETRY_TYPES = {topics.RECORDED["telemetry"]}
MAX_PAGES = 20
PAGE = 1000  # events per page asked of the server


class HistoryController(QObject):
    closed = Signal()

    def __init__(
        self,
        key: str,
        *,
        store: DeviceStore,
        fetch_page: FetchPage,
        spawn: Spawn,
        window: QWidget,
    ) -> None:
        """`store` gives the device and its live values, `fetch_page` the recorded ones,
        `spawn` runs the loading (in the opener's task group), `window` owns the dialog."""
        super().__init__(window)
        self.store = store
        self.fetch_page = fetch_page
        self.spawn = spawn
        self.key = key
        device = store.devices[key]
        self.device_id = device.device_id
        self.view = HistoryView(self.tr("History of {name}").format(name=device.name), window)
        self.range = "day"
        self.temperature: list[tuple[float, float]] = []
        self.pump: list[tuple[float, int]] = []
        self.loaded = False
        self.view.range_chosen.connect(self.choose)
        self.view.closed.connect(self._closed)
        store.subscribe(self._live)
        self.view.show()
        self.choose("day")

    def raise_(self) -> None:
        self.view.raise_()
        self.view.activateWindow()

    def close(self) -> None:
        self.view.close()

    def _closed(self) -> None:
        self.store.unsubscribe(self._live)
        self.closed.emit()
        self.view.deleteLater()

    def choose(self, range_key: str) -> None:
        self.range = range_key
        self.view.range_buttons[range_key].setChecked(True)
        self.spawn(self.load())

    async def load(self) -> None:
        self.loaded = False
        self.view.status.show_info(self.tr("Loading…"))
        since = datetime.now(UTC) - timedelta(seconds=RANGES[self.range])
        events: list[HistoryEvent] = []
        cursor = None
        try:
            for _ in range(MAX_PAGES):
                page = await self.fetch_page(self.device_id, since, PAGE, cursor)
                events.extend(page.events)
                cursor = page.next_cursor
                if not cursor:
                    break
        except ApiError as exc:
            self.view.status.show_error(fmt.core_message(exc.failure))
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
        device = self.store.devices.get(key)
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
