"""Alerts: the per-device alert list from the retained alert/<id> topics (raised, re-sent after a
reconnect, cleared), reopened after Esc; and desktop notifications without a tray icon through
a real D-Bus daemon and a notification service on it, or in the window when there is none."""

import subprocess

import pytest
from dbus_fast.aio import MessageBus
from dbus_fast.service import ServiceInterface, method
from PySide6.QtCore import Qt

from pooldesk.ui import i18n
from pooldesk.ui.theme import tile_colors
from tests.support.waiting import wait_until


class NotificationService(ServiceInterface):
    """A desktop's notification daemon, as the freedesktop.org specification defines Notify."""

    def __init__(self) -> None:
        super().__init__("org.freedesktop.Notifications")
        self.received: list[tuple[str, str, str]] = []

    @method()
    def Notify(  # noqa: N802 - the specification's names and D-Bus signatures
        self,
        app_name: "s",  # noqa: F821
        replaces_id: "u",  # noqa: F821
        app_icon: "s",  # noqa: F821
        summary: "s",  # noqa: F821
        body: "s",  # noqa: F821
        actions: "as",  # noqa: F722
        hints: "a{sv}",  # noqa: F722
        expire_timeout: "i",  # noqa: F821
    ) -> "u":  # noqa: F821
        self.received.append((app_name, summary, body))
        return len(self.received)


@pytest.fixture
def session_bus(tmp_path, monkeypatch):
    """A private session bus (the real dbus-daemon); DBUS_SESSION_BUS_ADDRESS points at it."""
    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1",
         f"--address=unix:path={tmp_path / 'bus'}"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    address = daemon.stdout.readline().strip()
    assert address, "dbus-daemon did not start"
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    yield address
    daemon.terminate()
    daemon.wait(5)


async def test_alert_list_raised_cleared_and_reopened_after_esc(signed_in, qtbot) -> None:
    app, key, controller, _ = signed_in
    card = app.window.dashboard_view.cards[key]
    fake = controller()
    fake.alert("sensor-water", "water sensor not responding", severity="warning")
    fake.alert("freeze", "freeze protection: pump on", severity="critical")
    await wait_until(lambda: app.dashboard.alert_log.active_count(key) == 2, what="two alerts")
    card.alerts_action.trigger()  # the card's ⋯ menu
    view = app.dashboard.alert_views[key]
    assert view.summary.text() == "2 active alerts"
    texts = [view.list.item(r).text() for r in range(view.list.count())]
    assert texts[0].startswith("freeze protection: pump on\nCritical · since")  # most severe first
    # a known id is said in the app's words, whatever the controller wrote
    assert texts[1].startswith(
        "The water temperature sensor is not responding: freeze protection cannot run.\nWarning"
    )

    fake.alert("sensor-water", None)  # the controller clears it
    await wait_until(lambda: view.summary.text() == "1 active alert", what="cleared")
    cleared = view.list.item(1)
    assert "cleared" in cleared.text()
    assert cleared.foreground().color().name() == tile_colors(view.palette())["muted"]

    qtbot.keyClick(view, Qt.Key.Key_Escape)
    await wait_until(lambda: key not in app.dashboard.alert_views, what="closed by Esc")
    card.alerts_action.trigger()
    assert app.dashboard.alert_views[key].isVisible()
    assert app.dashboard.alert_views[key].list.count() == 2


async def test_without_a_tray_an_alert_goes_to_the_desktop_notification_service(
    signed_in, session_bus
) -> None:
    app, _key, controller, _ = signed_in
    assert app.tray is None  # offscreen: no system tray, as on many Linux desktops
    service = NotificationService()
    bus = await MessageBus(bus_address=session_bus).connect()
    bus.export("/org/freedesktop/Notifications", service)
    await bus.request_name("org.freedesktop.Notifications")
    try:
        fake = controller()
        fake.alert("pump-fault", "pump fault", severity="critical")
        await wait_until(lambda: service.received, within=10, what="a desktop notification")
        app_name, summary, body = service.received[0]
        assert app_name == "PoolDesk"
        assert summary.startswith("Alert from")
        assert body == "pump fault"
        # recorded once the notification service answered, which may be after it received it
        await wait_until(lambda: app.notice_channels, within=10, what="the channel recorded")
        assert app.notice_channels == ["desktop"]
    finally:
        bus.disconnect()


async def test_without_tray_or_notification_service_the_window_says_it(
    signed_in, session_bus
) -> None:
    app, _key, controller, _ = signed_in
    fake = controller()  # a bus without a notification service on it
    fake.alert("pump-fault", "pump fault", severity="critical")
    await wait_until(lambda: app.notice_channels, within=10, what="the notice")
    assert app.notice_channels == ["window"]
    notice = app.window.dashboard_view.notice
    assert "Alert from" in notice.text()
    assert "pump fault" in notice.text()


async def test_a_known_alert_speaks_spanish_and_an_unknown_one_shows_the_controllers_words(
    signed_in, qapp
) -> None:
    """Alert ids the firmware raises (`sensor-water`, `clock`) are worded from the app's table
    by their id, not by matching the English; the `freeze` alert's temperature comes from its
    `water_c` field, written the Spanish way, and a `freeze` alert without it (older firmware)
    is the controller's own words; an id the app does not know shows the controller's message
    as it wrote it."""
    app, key, controller, _ = signed_in
    card = app.window.dashboard_view.cards[key]
    fake = controller()
    i18n.install_translator(qapp, "es")
    try:
        fake.alert("sensor-water", "sensor gone (firmware 0.9 words)", severity="warning")
        fake.alert("clock", "no network time yet: the schedule is waiting", severity="warning")
        fake.alert("freeze", "freeze running (water 9.9 C)", severity="info", water_c=1.5)
        fake.alert("chlorine-low", "chlorine below 0.5 ppm", severity="critical")
        await wait_until(lambda: app.dashboard.alert_log.active_count(key) == 4, what="4 alerts")
        await wait_until(lambda: "chlorine" in card.alerts.text(), what="the card's alerts")
        shown = card.alerts.text().splitlines()
        assert sorted(shown) == sorted(
            [
                "⚠ El sensor de temperatura del agua no responde: la protección antiheladas no "
                "puede funcionar.",
                "⚠ Todavía sin hora de la red: el horario está en espera.",
                "⚠ Protección antiheladas en marcha (agua a 1,5 °C).",
                "⚠ chlorine below 0.5 ppm",
            ]
        )
        card.alerts_action.trigger()
        view = app.dashboard.alert_views[key]
        first = view.list.item(0).text()  # the most severe first: the unknown one, as written
        assert first.startswith("chlorine below 0.5 ppm\n")
        older = "freeze protection running (water 1.5 C)"
        fake.alert("freeze", older, severity="info")  # no water_c: its words, as written
        await wait_until(lambda: f"⚠ {older}" in card.alerts.text(), what="older freeze alert")
    finally:
        i18n.install_translator(qapp, "en")
