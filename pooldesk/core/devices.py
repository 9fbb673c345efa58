"""The dashboard's picture of each device, built from the MQTT topics of docs/mqtt.md.

Topics: the user's own devices live under `users/<me>/devices/<id>`; a device shared with the
user lives under its owner's prefix (`topicPrefix` of `GET /api/devices`, docs/sharing.md), so
the store subscribes per device prefix besides the wildcard over the user's own devices (which
also shows a device bound after the list was fetched).

Staleness: a value is shown as current only while the device is online and the value arrived
after the device's latest return from offline. While the device is offline, or the app's own
broker link is down, every value is stale: the last known value, not the current one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pooldesk.core.alert_words import alert_message
from pooldesk.core.failures import Message
from pooldesk.core.models import DeviceInfo, parse_time
from pooldesk_contract import ids, topics

log = logging.getLogger(__name__)

PUMP_MODES = ("manual", "schedule", "timer", "freeze")
# What the dashboard reads of one device, relative to the device's prefix.
DEVICE_TOPICS = topics.DASHBOARD_TOPICS
# Topic filters relative to the user's prefix (`users/<u>`).
SUBSCRIPTIONS = topics.dashboard_subscriptions()
ROLES_THAT_CONTROL = ("owner", "operator")  # may publish pump/set and schedule/set


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class PumpState:
    on: bool
    mode: str
    until: datetime | None
    cmd_id: str | None
    ts: datetime | None
    received: datetime


@dataclass(frozen=True)
class Alert:
    id: str
    severity: str
    message: str  # the controller's English
    since: datetime | None
    water_c: float | None = None  # the freeze alert's water temperature (°C)

    @property
    def shown(self) -> Message:
        """What the UI words: the app's text for a known id, else the controller's message."""
        return alert_message(self.id, self.message, self.water_c)


@dataclass
class Device:
    key: str  # lower-case id as in topics, e.g. esp-a1b2c3
    device_id: str  # as printed, e.g. ESP-A1B2C3
    name: str
    online: bool | None = None  # None: no status seen yet
    last_seen: datetime | None = None
    back_online_at: datetime | None = None  # when we saw it return from offline
    pump: PumpState | None = None
    water_c: float | None = None
    air_c: float | None = None  # only with an air sensor (the firmware has none today)
    rssi: int | None = None  # Wi-Fi signal in dBm, from telemetry
    uptime_s: float | None = None  # seconds since the controller booted, at `uptime_received`
    uptime_received: datetime | None = None
    telemetry_received: datetime | None = None
    water_recorded_at: datetime | None = None  # water_c came from the server's history
    alerts: dict[str, Alert] = field(default_factory=dict)
    schedule: dict[str, Any] | None = None
    last_event: dict[str, Any] | None = None
    topic_prefix: str = ""  # users/<owner>/devices/<id>; "" until the backend's list says
    owner: str = ""  # the owner's username ("" when the backend does not say)
    role: str = "owner"  # this user's role: owner | operator | viewer

    @property
    def shared(self) -> bool:
        """Shared with this user by someone else (not this user's own device)."""
        return self.role != "owner"

    @property
    def can_control(self) -> bool:
        """May switch the pump and edit schedules (the broker refuses a viewer's commands)."""
        return self.role in ROLES_THAT_CONTROL

    def is_current(self, received: datetime | None, link_up: bool = True) -> bool:
        if received is None or not link_up or self.online is not True:
            return False
        return self.back_online_at is None or received >= self.back_online_at

    def pump_stale(self, link_up: bool = True) -> bool:
        return not self.is_current(self.pump.received if self.pump else None, link_up)

    def water_stale(self, link_up: bool = True) -> bool:
        return not self.is_current(self.telemetry_received, link_up)


Listener = Callable[[str, str], None]  # (device key, what changed: status/pump/telemetry/...)


class DeviceStore:
    def __init__(self) -> None:
        self.devices: dict[str, Device] = {}
        self.topic_prefix = ""  # users/<u>
        self.link_up = False
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, key: str, what: str) -> None:
        for listener in list(self._listeners):
            listener(key, what)

    def set_link_up(self, up: bool) -> None:
        if up != self.link_up:
            self.link_up = up
            for key in self.devices:
                self._emit(key, "link")

    # -- from the backend ---------------------------------------------------------------------
    def recorded(self, key: str, water_c: float | None, at: datetime) -> None:
        """The last water temperature the server recorded, shown until a live one arrives."""
        device = self.devices.get(key)
        if device is None or device.telemetry_received is not None or water_c is None:
            return
        device.water_c = water_c
        device.water_recorded_at = at
        self._emit(key, "recorded")

    def load(self, infos: list[DeviceInfo]) -> None:
        """Make the device list match the backend's (names, owners, roles, new and removed)."""
        wanted = {info.key: info for info in infos}
        for key in [k for k in self.devices if k not in wanted]:
            del self.devices[key]
            self._emit(key, "removed")
        for key, info in wanted.items():
            device = self.devices.get(key)
            moved = device is not None and info.topic_prefix not in ("", device.topic_prefix)
            if device is not None and device.topic_prefix and moved:
                # Handed over (a new owner, a new prefix): what was known under the old
                # prefix is not this device's any more.
                del self.devices[key]
                self._emit(key, "removed")
                device = None
            if device is None:
                self.devices[key] = Device(key, info.device_id, info.name, last_seen=info.last_seen)
                self._take(self.devices[key], info)
                self._emit(key, "added")
            else:
                device.name = info.name
                if info.last_seen and (not device.last_seen or info.last_seen > device.last_seen):
                    device.last_seen = info.last_seen
                self._take(device, info)
                self._emit(key, "name")

    @staticmethod
    def _take(device: Device, info: DeviceInfo) -> None:
        device.topic_prefix = info.topic_prefix or device.topic_prefix
        device.owner = info.owner
        device.role = info.role if info.role in ("owner", "operator", "viewer") else "viewer"

    def device_prefix(self, key: str) -> str:
        """Where a device's topics live: its owner's prefix, else under the user's own."""
        device = self.devices.get(key)
        if device is not None and device.topic_prefix:
            return device.topic_prefix
        return f"{self.topic_prefix}/{topics.DEVICES}/{key}"

    def owner_prefix(self, key: str) -> str:
        """The user prefix the device lives under (its owner's: `users/<owner>`)."""
        prefix, _, _ = self.device_prefix(key).rpartition(f"/{topics.DEVICES}/")
        return prefix

    def subscriptions(self, user_prefix: str) -> list[str]:
        """Absolute topic filters: the user's own devices by wildcard, each device shared with
        the user under its owner's prefix (a filter never covers a topic twice, so no message
        arrives twice)."""
        own = f"{user_prefix}/{topics.DEVICES}/"
        filters = [f"{user_prefix}/{sub}" for sub in SUBSCRIPTIONS]
        for key in sorted(self.devices):
            prefix = self.devices[key].topic_prefix
            if prefix and not prefix.startswith(own):
                filters.extend(f"{prefix}/{name}" for name in DEVICE_TOPICS)
        return filters

    def remove(self, key: str) -> None:
        if self.devices.pop(key, None) is not None:
            self._emit(key, "removed")

    # -- from MQTT ----------------------------------------------------------------------------
    def _locate(self, topic: str) -> tuple[str, str] | None:
        """(device key, topic below the device prefix) for a topic the store follows."""
        for key, device in self.devices.items():
            prefix = device.topic_prefix
            if prefix and topic.startswith(prefix + "/"):
                return key, topic[len(prefix) + 1 :]
        head = f"{self.topic_prefix}/{topics.DEVICES}/"
        if self.topic_prefix and topic.startswith(head):
            key, _, rest = topic[len(head) :].partition("/")
            known = self.devices.get(key)
            if known is not None and known.topic_prefix and known.topic_prefix != head + key:
                return None  # an old prefix of a device that now lives elsewhere
            return key, rest
        return None

    def handle(self, topic: str, payload: bytes, retained: bool = False) -> None:
        found = self._locate(topic)
        if found is None:
            return
        key, rest = found
        device = self.devices.get(key)
        if device is None:
            if not payload:
                # A cleared retained message (a removed device's, arriving after the server's
                # answer): it says the device is gone, never that one is new.
                return
            # A device bound after our list was fetched: show it under its id until renamed.
            device_id = ids.device_id_from_topic(key)
            device = self.devices[key] = Device(key, device_id, device_id)
            device.topic_prefix = f"{self.topic_prefix}/devices/{key}"
            self._emit(key, "added")
        now = utcnow()
        if rest == "status":
            self._status(device, payload.decode("utf-8", "replace").strip(), now, retained)
        elif rest.startswith("alert/"):
            self._alert(device, rest[len("alert/") :], payload)
        elif not payload:
            return  # a retained message cleared (the device is being removed)
        else:
            data = _json(payload)
            if data is None:
                log.warning("ignoring a message that is not a JSON object on %s", topic)
                return
            if rest == "pump/state":
                self._pump(device, data, now)
            elif rest == "telemetry":
                self._telemetry(device, data, now)
            elif rest == "schedule":
                device.schedule = data
                self._emit(key, "schedule")
            elif rest == "event":
                device.last_event = data
                self._emit(key, "event")
            else:
                return
        if rest != "status" and not retained:
            device.last_seen = now  # a live message is a sign of life

    def _status(self, device: Device, text: str, now: datetime, retained: bool) -> None:
        if text not in ("online", "offline"):
            return
        online = text == "online"
        if online and device.online is False and not retained:
            device.back_online_at = now
        device.online = online
        if online:
            device.last_seen = now
        self._emit(device.key, "status")

    def _pump(self, device: Device, data: dict[str, Any], now: datetime) -> None:
        mode = str(data.get("mode") or "manual")
        device.pump = PumpState(
            on=bool(data.get("on")),
            mode=mode if mode in PUMP_MODES else "manual",
            until=parse_time(data.get("until")),
            cmd_id=str(data["cmd_id"]) if data.get("cmd_id") else None,
            ts=parse_time(data.get("ts")),
            received=now,
        )
        self._emit(device.key, "pump")

    def _telemetry(self, device: Device, data: dict[str, Any], now: datetime) -> None:
        if "water_c" in data:
            device.water_c = _number(data.get("water_c"))
        if "air_c" in data:
            device.air_c = _number(data.get("air_c"))
        rssi = _number(data.get("rssi"))
        if rssi is not None:
            device.rssi = int(rssi)
        uptime = _number(data.get("uptime_s"))
        if uptime is not None and uptime >= 0:
            device.uptime_s, device.uptime_received = uptime, now
        device.telemetry_received = now
        self._emit(device.key, "telemetry")

    def _alert(self, device: Device, alert_id: str, payload: bytes) -> None:
        if not payload:
            device.alerts.pop(alert_id, None)
        else:
            data = _json(payload) or {}
            device.alerts[alert_id] = Alert(
                id=alert_id,
                severity=str(data.get("severity") or "warning"),
                message=str(data.get("message") or alert_id),
                since=parse_time(data.get("since")),
                water_c=_number(data.get("water_c")),
            )
        self._emit(device.key, "alerts")


def _json(payload: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
