"""The alert list: every alert a controller raised while the app watched, active or cleared.

The firmware keeps one retained `alert/<id>` topic per active alert and clears it with an empty
retained payload (docs/mqtt.md). The store holds only the active ones; this log remembers when
each appeared and when it cleared, per device, newest first. An alert that arrives again
retained after a reconnect is the same alert, not a new entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pooldesk.core.alert_words import alert_message
from pooldesk.core.devices import DeviceStore, utcnow
from pooldesk.core.failures import Message

MAX_PER_DEVICE = 100  # the oldest cleared entries go first
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclass
class AlertEntry:
    device_key: str
    alert_id: str
    severity: str  # info, warning, critical
    message: str  # the controller's English text
    since: datetime  # the controller's `since`, else when the app first saw it
    cleared_at: datetime | None = None
    water_c: float | None = None  # the freeze alert's water temperature (°C)

    @property
    def active(self) -> bool:
        return self.cleared_at is None

    @property
    def shown(self) -> Message:
        """What the UI words: the app's text for a known id, else the controller's message."""
        return alert_message(self.alert_id, self.message, self.water_c)


class AlertLog:
    def __init__(self, store: DeviceStore, *, now: Callable[[], datetime] = utcnow) -> None:
        self._store = store
        self._now = now
        self._entries: dict[str, list[AlertEntry]] = {}  # device key -> oldest first
        self._listeners: list[Callable[[str], None]] = []
        store.subscribe(self._changed)
        for key in list(store.devices):  # alerts the store already holds
            self._changed(key, "alerts")

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """`listener(device_key)` after that device's list changed."""
        self._listeners.append(listener)

    def entries(self, key: str) -> list[AlertEntry]:
        """Active alerts first (most severe first), then cleared ones, newest first."""
        items = self._entries.get(key, [])
        active = sorted(
            (e for e in items if e.active),
            key=lambda e: (SEVERITY_ORDER.get(e.severity, 3), -e.since.timestamp()),
        )
        cleared = sorted(
            (e for e in items if not e.active),
            key=lambda e: e.cleared_at or e.since,  # a cleared entry has its cleared_at
            reverse=True,
        )
        return active + cleared

    def active_count(self, key: str) -> int:
        return sum(1 for e in self._entries.get(key, []) if e.active)

    def clear(self) -> None:
        self._entries.clear()

    def _changed(self, key: str, what: str) -> None:
        if what == "removed":
            self._entries.pop(key, None)
            return
        if what != "alerts":
            return
        device = self._store.devices.get(key)
        if device is None:
            return
        entries = self._entries.setdefault(key, [])
        open_by_id = {e.alert_id: e for e in entries if e.active}
        now = self._now()
        for alert_id, alert in device.alerts.items():
            entry = open_by_id.pop(alert_id, None)
            if entry is None:
                entry = AlertEntry(key, alert_id, alert.severity, alert.message, alert.since or now)
                entries.append(entry)
            else:  # the same alert again (retained after a reconnect) or re-worded
                entry.severity, entry.message = alert.severity, alert.message
            entry.water_c = alert.water_c
        for entry in open_by_id.values():
            entry.cleared_at = now
        if len(entries) > MAX_PER_DEVICE:
            cleared = [e for e in entries if not e.active]
            for entry in cleared[: len(entries) - MAX_PER_DEVICE]:
                entries.remove(entry)
        for listener in list(self._listeners):
            listener(key)
