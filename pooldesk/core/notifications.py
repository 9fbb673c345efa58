"""Which device changes deserve a desktop notification: going offline, a new alert."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pooldesk.core.devices import DeviceStore
from pooldesk.core.failures import Message


@dataclass(frozen=True)
class Notice:
    device_key: str
    kind: str  # "offline" or "alert"
    device_name: str
    text: Message  # the alert as the UI words it (Alert.shown), empty for offline


class NoticeWatcher:
    """Turns store changes into notices; each alert is announced once, not again when it
    arrives retained after a reconnect."""

    def __init__(self, store: DeviceStore, notify: Callable[[Notice], None]) -> None:
        self._store = store
        self._notify = notify
        self._online: dict[str, bool | None] = {}
        self._alerts: dict[str, set[str]] = {}
        self.enabled = True
        store.subscribe(self._changed)

    def _changed(self, key: str, what: str) -> None:
        device = self._store.devices.get(key)
        if device is None:
            self._online.pop(key, None)
            self._alerts.pop(key, None)
            return
        if what == "status":
            was = self._online.get(key)
            self._online[key] = device.online
            if was is True and device.online is False and self.enabled:
                self._notify(Notice(key, "offline", device.name, ""))
        elif what == "alerts":
            known = self._alerts.setdefault(key, set())
            for alert_id, alert in device.alerts.items():
                if alert_id not in known and self.enabled:
                    self._notify(Notice(key, "alert", device.name, alert.shown))
            self._alerts[key] = set(device.alerts)
