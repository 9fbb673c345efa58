"""The alert list built from the retained alert/<id> topics (pooldesk.core.alert_log), fed
through the real DeviceStore as the MQTT link feeds it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from pooldesk.core.alert_log import AlertLog
from pooldesk.core.devices import DeviceStore
from pooldesk.core.models import DeviceInfo

PREFIX = "users/ann"
KEY = "esp-a1b2c3"


def store_and_log() -> tuple[DeviceStore, AlertLog, list[datetime]]:
    store = DeviceStore()
    store.topic_prefix = PREFIX
    store.load([DeviceInfo("ESP-A1B2C3", "Pool", f"{PREFIX}/devices/{KEY}")])
    clock = [datetime(2026, 12, 9, 10, 0, tzinfo=UTC)]
    return store, AlertLog(store, now=lambda: clock[0]), clock


def alert(store: DeviceStore, alert_id: str, severity: str | None, *, retained=True) -> None:
    payload = (
        b""
        if severity is None
        else json.dumps({"id": alert_id, "severity": severity, "message": f"{alert_id} problem"})
    )
    store.handle(f"{PREFIX}/devices/{KEY}/alert/{alert_id}", payload, retained=retained)


def test_raised_then_cleared_is_kept_as_cleared() -> None:
    store, log, clock = store_and_log()
    alert(store, "sensor-water", "warning", retained=False)
    clock[0] += timedelta(minutes=7)
    alert(store, "sensor-water", None, retained=False)
    [entry] = log.entries(KEY)
    assert not entry.active
    assert entry.cleared_at == clock[0]
    assert entry.message == "sensor-water problem"
    assert log.active_count(KEY) == 0


def test_the_same_alert_again_after_a_reconnect_is_not_a_new_entry() -> None:
    store, log, _ = store_and_log()
    alert(store, "freeze", "critical")
    alert(store, "freeze", "critical")  # retained copy after the app reconnected
    assert len(log.entries(KEY)) == 1
    assert log.active_count(KEY) == 1


def test_active_first_most_severe_first_then_cleared() -> None:
    store, log, clock = store_and_log()
    alert(store, "old", "info")
    clock[0] += timedelta(minutes=1)
    alert(store, "old", None)
    alert(store, "sensor-air", "info")
    alert(store, "pump-fault", "critical")
    alert(store, "sensor-water", "warning")
    ids = [(e.alert_id, e.active) for e in log.entries(KEY)]
    assert ids == [
        ("pump-fault", True),
        ("sensor-water", True),
        ("sensor-air", True),
        ("old", False),
    ]


def test_a_removed_device_takes_its_alerts_with_it() -> None:
    store, log, _ = store_and_log()
    alert(store, "freeze", "critical")
    store.load([])
    assert log.entries(KEY) == []
