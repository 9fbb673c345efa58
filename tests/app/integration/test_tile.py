"""The pump tile reads at a glance: run time today and this week from the recorded pump states
(the real backend's /api/history), the next scheduled run, Wi-Fi signal and uptime from the
controller's telemetry, no air line for a controller without an air sensor, and colours that
keep their contrast in both themes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from PySide6.QtGui import QColor

from pooldesk.core import api_types as api
from pooldesk.core.backend_client import BackendClient
from pooldesk.core.pump_runtime import period_starts
from pooldesk.ui.theme import TILE_COLORS, contrast
from pooldesk.ui.tile_icons import icon
from tests.app.helpers import FakeController, issued_device_login, now_iso, unique_user
from tests.support.waiting import wait_until


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def overlap(start: datetime, end: datetime, since: datetime, until: datetime) -> timedelta:
    return max(min(end, until) - max(start, since), timedelta(0))


def minutes(value: timedelta) -> str:
    hours, mins = divmod(int(value.total_seconds()) // 60, 60)
    if not hours:
        return f"{mins} min"
    return f"{hours} h {mins} min" if mins else f"{hours} h"


async def test_run_time_next_run_signal_and_uptime_on_the_tile(make_app, backend) -> None:
    user = unique_user()
    client = BackendClient(backend.url)
    await client.register(user["username"], user["email"], user["password"], user["device_id"])
    await client.login(user["username"], user["password"])
    now = datetime.now(UTC)
    today, week = period_starts(now)
    # (on, off): one across this week's start, one later that has ended. Both end before now and
    # do not overlap, however soon after the week's start the test runs (just after Monday 00:00
    # the first would otherwise still be running and contain the second).
    span = min(timedelta(hours=1), (now - week) / 3)
    runs = [(week - timedelta(hours=1), week + span), (now - span, now - span / 2)]
    for on, off in runs:
        for ts, state in ((on, True), (off, False)):
            body = {"deviceId": user["device_id"], "type": "state", "data": {"on": state}}
            await client._authed(
                api.EventAnswer, "POST", "/api/event", json={**body, "ts": iso(ts)}
            )
    await client.aclose()
    expected_today = sum((overlap(a, b, today, now) for a, b in runs), timedelta(0))
    expected_week = sum((overlap(a, b, week, now) for a, b in runs), timedelta(0))

    app = make_app(backend.url)
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    key = user["device_id"].lower()
    cards = app.window.dashboard_view.cards
    await wait_until(lambda: key in cards)
    card = cards[key]
    await wait_until(lambda: "this week" in card.run_time.text(), what="run time from history")
    assert card.run_time.text() == (
        f"Ran {minutes(expected_today)} today · {minutes(expected_week)} this week"
    )

    # Telemetry is not retained: the app must be listening before it is sent.
    await wait_until(lambda: app.dashboard.link and app.dashboard.link.connected, what="live")
    fake = FakeController(**await issued_device_login(app.session.client, user["device_id"]))
    fake.start()
    try:
        soon = (datetime.now().astimezone() + timedelta(hours=2)).replace(second=0, microsecond=0)
        later = soon + timedelta(hours=1)
        days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        schedule = {
            "tz": "UTC",
            "windows": [{"start": soon.astimezone(UTC).strftime("%H:%M"),
                         "end": later.astimezone(UTC).strftime("%H:%M"), "days": days}],
            "ts": now_iso(),
        }  # fmt: skip
        fake.client.publish(f"{fake.prefix}/schedule", json.dumps(schedule), qos=1, retain=True)
        telemetry = {
            "water_c": 26.4,
            "rssi": -61,
            "uptime_s": 3 * 86400 + 4 * 3600,
            "ts": now_iso(),
        }
        fake.client.publish(f"{fake.prefix}/telemetry", json.dumps(telemetry), qos=1)
        await wait_until(lambda: "dBm" in card.wifi.text(), what="telemetry")
        assert card.wifi.text() == "Wi-Fi good (-61 dBm) · up 3 d 4 h"
        assert card.temperature.text() == "26.4 °C"
        assert card.air.isHidden()  # the firmware has no air sensor: no invented air value
        await wait_until(lambda: "Next run" in card.next_run.text(), what="schedule")
        day = "today" if soon.date() == datetime.now().astimezone().date() else "tomorrow"
        assert card.next_run.text() == (
            f"Next run: {day} {soon.strftime('%H:%M')}–{later.strftime('%H:%M')}"
        )

        fake.pump.update(on=True, mode="manual")  # live: the run time counts on from now
        fake.publish_pump()
        await wait_until(lambda: app.dashboard.pump_states[key][-1][1] is True, what="live on")
        assert "Pump on" in card.pump.text()
    finally:
        fake.stop()


def test_tile_colours_keep_their_contrast_in_both_themes(qapp) -> None:
    for dark, colors in TILE_COLORS.items():
        for role in ("on", "muted", "alert", "accent"):
            ratio = contrast(colors[role], colors["card"])
            assert ratio >= 4.5, f"{'dark' if dark else 'light'} {role}: {ratio:.2f}"
        # The icons are drawn in those colours: their pixels are the colour asked for.
        image = icon("water", colors["accent"], ratio=1).toImage()
        drawn = image.pixelColor(9, 12)
        assert drawn.alpha() > 200
        assert drawn.rgb() == QColor(colors["accent"]).rgb()


def test_messages_keep_their_contrast_on_the_dark_window(qapp) -> None:
    """The light theme's red (#b3261e) is 2.5:1 on the dark window: errors and confirmations
    there use their own colours."""
    import re

    from pooldesk.ui.theme import palette
    from pooldesk.ui.views.common import FieldHint, MessageLabel

    for dark in (False, True):
        message, hint = MessageLabel(), FieldHint()
        for widget in (message, hint):
            widget.setPalette(palette(dark))
        window = palette(dark).color(palette(dark).ColorRole.Window).name()
        message.show_error("The controller did not respond.")
        hint.set_problem("A network name has at most 32 bytes.")
        for widget in (message, hint):
            color = re.search(r"#[0-9a-f]{6}", widget.styleSheet()).group(0)
            assert contrast(color, window) >= 4.5, (dark, color)
        message.show_info("Confirmed by the controller.")
        color = re.search(r"#[0-9a-f]{6}", message.styleSheet()).group(0)
        assert contrast(color, window) >= 4.5, (dark, color)


def test_the_connection_dot_keeps_3_to_1_in_both_themes(qapp) -> None:
    from pooldesk.ui.theme import palette
    from pooldesk.ui.views.dashboard_view import ConnectionIndicator

    for dark in (False, True):
        indicator = ConnectionIndicator()
        indicator.setPalette(palette(dark))
        window = palette(dark).color(palette(dark).ColorRole.Window).name()
        for level in ("ok", "wait", "bad", "off"):
            indicator.set_state(level, "x")
            color = indicator.text().split("color:")[1][:7]
            assert contrast(color, window) >= 3, (dark, level, color)
