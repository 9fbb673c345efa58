"""Save a PNG of every PoolDesk screen into docs/screenshots/ (offscreen, no services needed).

    .venv/bin/python tools/screenshots.py [--out docs/screenshots]

The screens are the app's real views and controllers' wording, filled with example data through
the same core objects the live app uses (DeviceStore, CardText), so no server or broker runs.
The provisioning wizard's pages (08-13) come from the real wizard controller with an example
flow in place of Bluetooth (`tools/wizard_examples.py`).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QCoreApplication  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from pooldesk.core.alert_log import AlertLog  # noqa: E402
from pooldesk.core.commands import CommandTracker  # noqa: E402
from pooldesk.core.devices import DeviceStore  # noqa: E402
from pooldesk.core.failures import Code, failure  # noqa: E402
from pooldesk.core.models import DeviceInfo  # noqa: E402
from pooldesk.core.mqtt_link import LinkState, LinkStatus  # noqa: E402

PREFIX = "users/john"
SERVER = "http://127.0.0.1:8788"


SCHEDULE = (
    b'{"tz": "UTC", "windows": [{"start": "08:00", "end": "12:00", "days": '
    b'["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}, {"start": "18:00", "end": "20:00", '
    b'"days": ["sat", "sun"]}]}'
)

SPA_SCHEDULE = (
    b'{"tz": "Europe/Madrid", "windows": [{"start": "19:00", "end": "19:30", "days": ["fri"]}]}'
)


def example_pump_states(now: datetime) -> list[tuple[datetime, bool]]:
    """Two hours a day this week, the last run ending an hour ago: "Ran … today · … this week"."""
    states = []
    for days_ago in range(7, 0, -1):
        start = now - timedelta(days=days_ago, hours=3)
        states += [(start, True), (start + timedelta(hours=2), False)]
    return [*states, (now - timedelta(hours=3), True), (now - timedelta(hours=1), False)]


def example_store() -> DeviceStore:
    store = DeviceStore()
    store.topic_prefix = PREFIX
    store.load(
        [
            DeviceInfo("ESP-A1B2C3", "Back yard pool", f"{PREFIX}/devices/esp-a1b2c3"),
            DeviceInfo("ESP-0F1E2D", "Spa", f"{PREFIX}/devices/esp-0f1e2d"),
            DeviceInfo(
                "ESP-77AA01",
                "Cabin pool",
                f"{PREFIX}/devices/esp-77aa01",
                last_seen=datetime.now(UTC) - timedelta(hours=3),
            ),
        ]
    )
    store.set_link_up(True)
    until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    messages = [
        ("esp-a1b2c3/status", b"online"),
        ("esp-a1b2c3/pump/state", b'{"on": true, "mode": "timer", "until": "%s"}' % until.encode()),
        ("esp-a1b2c3/telemetry", b'{"water_c": 27.4, "rssi": -58, "uptime_s": 277200}'),
        ("esp-a1b2c3/schedule", SCHEDULE),
        ("esp-0f1e2d/status", b"online"),
        ("esp-0f1e2d/pump/state", b'{"on": false, "mode": "schedule"}'),
        ("esp-0f1e2d/telemetry", b'{"water_c": 35.1, "rssi": -79, "uptime_s": 5400}'),
        ("esp-0f1e2d/schedule", SPA_SCHEDULE),
        (
            "esp-0f1e2d/alert/sensor-air",
            b'{"severity": "warning", "message": "air sensor not responding"}',
        ),
        ("esp-77aa01/pump/state", b'{"on": false, "mode": "manual"}'),
        ("esp-77aa01/telemetry", b'{"water_c": 19.8}'),
        ("esp-77aa01/status", b"offline"),
    ]
    for topic, payload in messages:  # the cabin's values arrive retained, from 3 h ago
        store.handle(f"{PREFIX}/devices/{topic}", payload, retained=topic.startswith("esp-77"))
    return store


def translate(context: str, text: str) -> str:
    """The wording the named controller shows, in the language installed."""
    return QCoreApplication.translate(context, text)


def save(widget: QWidget, out: Path, name: str, size=(900, 640)) -> None:
    widget.resize(*size)
    widget.show()
    QApplication.processEvents()
    path = out / f"{name}.png"
    widget.grab().save(str(path))
    print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])

    from pooldesk.ui import format as fmt
    from pooldesk.ui.controllers.dashboard import DashboardController
    from pooldesk.ui.main_window import MainWindow
    from pooldesk.ui.views.history_view import HistoryView
    from pooldesk.ui.views.schedule_view import ScheduleView

    window = MainWindow()
    window.server_view.set_values("http://127.0.0.1:8788", False)
    window.show_page(window.server_view)
    save(window, args.out, "01-server")

    from pooldesk.ui.views.local_server_view import LocalServerView

    local = LocalServerView(window)
    local.lan_host.setText("192.168.1.20")
    save(local, args.out, "15-local-server", (600, 440))

    sign_in = window.sign_in_view
    sign_in.server.setText(translate("AuthController", "Server: {url}").format(url=SERVER))
    sign_in.username.setText("john")
    sign_in.password.setText("Secure-Pool-2026!")
    sign_in.error.show_error(fmt.core_message(failure(Code.WRONG_CREDENTIALS)))
    window.show_page(sign_in)
    save(window, args.out, "02-sign-in")

    register = window.register_view
    register.username.setText("john")
    register.email.setText("john@example")
    register.password.setText("Pool2026")
    register.device_id.setText("ESP-A1B2")
    register._touched.update(register._fields())
    register._validate()
    window.show_page(register)
    save(window, args.out, "03-register", (900, 760))

    dashboard = DashboardController(window.dashboard_view)
    store = example_store()
    dashboard.store = store
    dashboard.alert_log = AlertLog(store)  # the list follows the example store's alerts
    dashboard.alert_log.subscribe(dashboard._alerts_changed)
    dashboard.commands = CommandTracker(store, lambda _t, _p: True)
    for key in ("esp-a1b2c3", "esp-0f1e2d"):
        dashboard.pump_states[key] = example_pump_states(datetime.now(UTC))
    for key in store.devices:
        dashboard.view.card(key).show_text(dashboard.card_text(store.devices[key]))
    dashboard.view.relayout()
    dashboard._show_link(LinkStatus(LinkState.CONNECTED, "127.0.0.1"))
    spa = dashboard.card_text(store.devices["esp-0f1e2d"])
    spa.message = fmt.core_message(failure(Code.COMMAND_NO_RESPONSE))
    spa.message_is_error = True
    dashboard.view.card("esp-0f1e2d").show_text(spa)
    window.show_page(window.dashboard_view)
    save(window, args.out, "04-dashboard", (960, 720))

    account = window.account_view
    account.who.setText(
        translate("AccountController", "Signed in as {user} ({email}) on {server}").format(
            user="john", email="john@example.com", server=SERVER
        )
    )
    now = datetime.now(UTC)
    account.show_sessions(
        [
            ("1", "PoolDesk/0.1.0 (Linux)", "2026-11-27 10:02", fmt.ago(now), True),
            (
                "2",
                "PoolDesk/0.1.0 (Windows)",
                "2026-11-20 18:40",
                fmt.ago(now - timedelta(hours=3)),
                False,
            ),
        ]
    )
    account.notifications.setChecked(True)
    account.show_language("system")
    account.keyring_note.setText(
        translate("AccountController", "Your session is kept in the system keyring.")
    )
    window.show_page(account)
    save(window, args.out, "05-account", (900, 980))

    history = HistoryView(
        translate("HistoryController", "History of {name}").format(name="Back yard pool")
    )
    now_s = datetime.now(UTC).timestamp()
    temperature = [
        (now_s - 86400 + i * 1800, 25 + 2.5 * __import__("math").sin(i / 8)) for i in range(49)
    ]
    pump = [
        (now_s - 86400, 0),
        (now_s - 64800, 1),
        (now_s - 50400, 0),
        (now_s - 21600, 1),
        (now_s - 7200, 0),
    ]
    history.show_series(temperature, pump, now_s - 86400, now_s)
    save(history, args.out, "06-history", (760, 480))

    schedule = ScheduleView(
        translate("ScheduleController", "Schedule of {name}").format(name="Back yard pool"),
        "Europe/Madrid",
    )
    schedule.set_windows(
        [
            {"start": "08:00", "end": "12:00", "days": ["mon", "tue", "wed", "thu", "fri"]},
            {"start": "22:00", "end": "02:00", "days": ["fri", "sat"]},
        ]
    )
    schedule.status.show_info(
        translate("ScheduleController", "The controller runs this schedule now.")
    )
    save(schedule, args.out, "07-schedule", (700, 360))

    # The spa's alert list: one active (from the example store), one raised and cleared earlier.
    store.handle(
        f"{PREFIX}/devices/esp-0f1e2d/alert/freeze",
        b'{"severity": "critical", "message": "freeze protection: pump on"}',
    )
    store.handle(f"{PREFIX}/devices/esp-0f1e2d/alert/freeze", b"")
    dashboard.open_alerts("esp-0f1e2d")
    save(dashboard.alert_views["esp-0f1e2d"], args.out, "14-alerts", (560, 320))

    from tools.wizard_examples import wizard_screens

    wizard_screens(save, args.out)
    app.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
