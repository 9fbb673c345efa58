"""Account page, history chart and schedule editor on the real window."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt

from pooldesk.core import api_types as api
from pooldesk.core.backend_client import BackendClient
from pooldesk.core.session import SessionState
from tests.app.helpers import FakeController, issued_device_login, unique_user
from tests.support.waiting import wait_until


async def open_account(make_app, backend, qtbot):
    user = unique_user()
    client = BackendClient(backend.url)
    await client.register(user["username"], user["email"], user["password"], user["device_id"])
    await client.aclose()
    app = make_app(backend.url)
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    await wait_until(lambda: app.window.page is app.window.dashboard_view)
    qtbot.mouseClick(app.window.dashboard_view.account_button, Qt.MouseButton.LeftButton)
    view = app.window.account_view
    await wait_until(lambda: view.sessions.rowCount() == 1, what="sessions listed")
    return app, view, user


async def test_change_password_live_rules_and_server_answer(make_app, backend, qtbot) -> None:
    _app, view, user = await open_account(make_app, backend, qtbot)
    view.current_password.setText(user["password"])
    view.new_password.setText("weak")
    assert not view.checklist.lines[0].text().startswith("✓")
    qtbot.mouseClick(view.change_password_button, Qt.MouseButton.LeftButton)
    assert "needs" in view.password_message.text()  # refused locally, nothing sent
    view.new_password.setText("Another-Strong-Pass-9")
    view.repeat_password.setText("Another-Strong-Pass-9")
    view.current_password.setText("Wrong-Password-1!")
    qtbot.mouseClick(view.change_password_button, Qt.MouseButton.LeftButton)
    assert view.busy.isVisible()
    assert not view.password_message.isVisible()
    await wait_until(lambda: view.password_message.isVisible(), what="server refusal")
    # by the refusal's reason (wrong_password), in the app's words
    assert view.password_message.text() == "The current password is incorrect."
    view.current_password.setText(user["password"])
    qtbot.mouseClick(view.change_password_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: view.password_message.isVisible(), what="server answer")
    assert view.current_password.text() == "", view.password_message.text()
    # what the app did, in its own words (not the server's "Password changed; …")
    assert view.password_message.text() == (
        "Password changed; your other sessions have been signed out."
    )
    probe = BackendClient(backend.url)
    await probe.login(user["username"], "Another-Strong-Pass-9")
    await probe.aclose()


async def test_list_and_end_other_sessions(make_app, backend, qtbot) -> None:
    app, view, user = await open_account(make_app, backend, qtbot)
    other = BackendClient(backend.url)
    await other.login(user["username"], user["password"])
    qtbot.mouseClick(view.refresh_sessions_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: view.sessions.rowCount() == 2)
    current_row = next(i for i in range(2) if "(this app)" in view.sessions.item(i, 0).text())
    view.sessions.selectRow(current_row)
    assert not view.end_session_button.isEnabled()  # sign out instead of ending your own
    view.sessions.selectRow(1 - current_row)
    assert view.end_session_button.isEnabled()
    qtbot.mouseClick(view.end_session_button, Qt.MouseButton.LeftButton)
    confirm = app.account.dialog  # asked first; the safe answer is the default
    assert confirm.isVisible()
    assert confirm.cancel_button.isDefault()
    qtbot.keyClick(confirm, Qt.Key.Key_Return)
    assert not confirm.isVisible()
    assert view.sessions.rowCount() == 2
    qtbot.mouseClick(view.end_session_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(app.account.dialog.confirm_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: view.sessions.rowCount() == 1, what="ended")
    assert app.session.state is SessionState.SIGNED_IN
    other.expire_access_token_now()
    try:
        await other.devices()
        raise AssertionError("the ended session still works")
    except Exception as exc:  # noqa: BLE001
        assert "Sign in again" in str(exc)
    await other.aclose()


async def test_export_saves_the_json(make_app, backend, qtbot, tmp_path) -> None:
    app, view, user = await open_account(make_app, backend, qtbot)
    target = tmp_path / "export.json"
    await app.account.export_to(target)
    data = json.loads(target.read_text())
    assert target.stat().st_mode & 0o777 == 0o600  # the whole history: for its owner only
    assert user["username"] in json.dumps(data)
    assert "saved" in view.notice.text()
    assert not list(tmp_path.glob("*.part"))
    await app.account.export_to(tmp_path / "missing-folder" / "x.json")
    assert "Could not save" in view.notice.text()


async def test_delete_account_needs_password_and_confirmation(make_app, backend, qtbot) -> None:
    app, view, user = await open_account(make_app, backend, qtbot)
    assert not view.delete_button.isEnabled()
    view.delete_password.setText("Wrong-Password-1!")
    assert not view.delete_button.isEnabled()
    view.delete_understood.setChecked(True)
    assert view.delete_button.isEnabled()
    qtbot.mouseClick(view.delete_button, Qt.MouseButton.LeftButton)
    app.account.dialog.accept()
    await wait_until(lambda: view.notice.isVisible(), what="refusal")
    assert view.notice.text() == "The current password is incorrect."
    assert app.session.state is SessionState.SIGNED_IN
    view.delete_password.setText(user["password"])
    qtbot.mouseClick(view.delete_button, Qt.MouseButton.LeftButton)
    app.account.dialog.reject()  # changed their mind: nothing happens
    assert app.session.state is SessionState.SIGNED_IN
    qtbot.mouseClick(view.delete_button, Qt.MouseButton.LeftButton)
    app.account.dialog.accept()
    await wait_until(lambda: app.window.page is app.window.sign_in_view, what="signed out")
    # the app's own words for what it did (a call cut off by the deletion may say first that
    # the session ended; the deletion's answer has the last word)
    notice = app.window.sign_in_view.notice
    await wait_until(lambda: notice.text() == "Your account was deleted.", what="deleted")
    assert app.session.store.load() is None
    probe = BackendClient(backend.url)
    try:
        await probe.login(user["username"], user["password"])
        raise AssertionError("the account still exists")
    except Exception as exc:  # noqa: BLE001
        assert "Invalid username or password" in str(exc)
    await probe.aclose()


async def test_history_chart_from_the_api_and_live(make_app, backend) -> None:
    user = unique_user()
    client = BackendClient(backend.url)
    await client.register(user["username"], user["email"], user["password"], user["device_id"])
    await client.login(user["username"], user["password"])
    now = datetime.now(UTC)
    for hours, temp, on in ((30, 20.0, False), (5, 24.5, True), (1, 25.5, False)):
        ts = (now - timedelta(hours=hours)).isoformat().replace("+00:00", "Z")
        await client._authed(
            api.EventAnswer,
            "POST",
            "/api/event",
            json={
                "deviceId": user["device_id"],
                "type": "telemetry",
                "data": {"water_c": temp},
                "ts": ts,
            },
        )
        await client._authed(
            api.EventAnswer,
            "POST",
            "/api/event",
            json={
                "deviceId": user["device_id"],
                "type": "state",
                "data": {"on": on},
                "ts": ts,
            },
        )
    await client.aclose()

    app = make_app(backend.url)
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    key = user["device_id"].lower()
    await wait_until(lambda: key in app.window.dashboard_view.cards)
    await wait_until(lambda: app.dashboard.link and app.dashboard.link.connected)
    app.window.dashboard_view.cards[key].history_action.trigger()
    history = app.dashboard.history_controllers[key]
    await wait_until(lambda: history.loaded, what="history loaded")
    assert [v for _, v in history.temperature] == [24.5, 25.5]  # the last 24 h only
    plot = history.view.temperature_plot.getPlotItem()
    low, high = plot.viewRange()[1]
    assert high - low >= 2.0
    assert low < 24.5
    assert high > 25.5
    assert plot.buttonsHidden
    assert not plot.menuEnabled()
    _xs, ys = history.view.temperature_curve.getData()
    assert list(ys) == [24.5, 25.5]
    history.choose("week")
    await wait_until(lambda: history.loaded and len(history.temperature) == 3, what="7 days")
    assert [v for _, v in history.pump] == [0, 1, 0]
    assert list(history.view.pump_curve.getData()[1]) == [0, 1, 0, 0]  # held until now

    fake = FakeController(**await issued_device_login(app.session.client, user["device_id"]))
    fake.start()
    try:
        fake.telemetry(26.75)
        await wait_until(lambda: history.temperature[-1][1] == 26.75, what="live point")
        assert list(history.view.temperature_curve.getData()[1])[-1] == 26.75
    finally:
        fake.stop()
    history.close()
    await wait_until(lambda: key not in app.dashboard.history_controllers)


async def test_schedule_editor_sends_and_is_confirmed(make_app, backend) -> None:
    user = unique_user()
    client = BackendClient(backend.url)
    await client.register(user["username"], user["email"], user["password"], user["device_id"])
    await client.aclose()
    app = make_app(backend.url)
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    key = user["device_id"].lower()
    await wait_until(lambda: app.dashboard.link and app.dashboard.link.connected)
    fake = FakeController(**await issued_device_login(app.session.client, user["device_id"]))
    fake.start()
    try:
        await wait_until(
            lambda: key in app.dashboard.store.devices and app.dashboard.store.devices[key].online
        )
        app.window.dashboard_view.cards[key].schedule_action.trigger()
        schedule = app.dashboard.schedule_controllers[key]
        view = schedule.view
        row = view.add_row({"start": "22:00", "end": "02:00", "days": ["fri"]})
        for box in row.days.values():
            box.setChecked(False)
        view.save_button.click()
        assert "at least one day" in view.status.text()  # checked before sending
        row.days["fri"].setChecked(True)
        view.save_button.click()
        await wait_until(lambda: "runs this schedule" in view.status.text(), what="echo")
        sent = fake.commands[-1]
        assert sent["windows"] == [{"start": "22:00", "end": "02:00", "days": ["fri"]}]
        assert sent["tz"]
        assert sent["cmd_id"]
        assert app.dashboard.store.devices[key].schedule["windows"] == sent["windows"]
        schedule.close()
    finally:
        fake.stop()


async def test_escape_leaves_the_account_page(make_app, backend, qtbot) -> None:
    app, view, _user = await open_account(make_app, backend, qtbot)
    assert app.window.page is view
    qtbot.keyClick(view.current_password, Qt.Key.Key_Escape)
    assert app.window.page is app.window.dashboard_view


async def test_return_presses_the_focused_button(make_app, backend, qtbot) -> None:
    app, view, _user = await open_account(make_app, backend, qtbot)
    view.back_button.setFocus()
    qtbot.keyClick(view.back_button, Qt.Key.Key_Return)
    await wait_until(lambda: app.window.page is app.window.dashboard_view, what="went back")
