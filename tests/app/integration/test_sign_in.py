"""The real window: first run, registration, sign-in, restore, revocation and sign-out."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt

from pooldesk.core.backend_client import BackendClient
from pooldesk.core.session import Session, SessionState
from pooldesk.core.token_store import TokenStore
from tests.app.helpers import register_user, unique_user
from tests.support.waiting import wait_until


async def test_first_run_asks_for_the_server_and_remembers_it(make_app, backend, qtbot) -> None:
    app = make_app()
    await app.start()
    window = app.window
    assert window.page is window.server_view
    assert window.server_view.url.text() == "http://127.0.0.1:8788"  # the default
    window.server_view.url.setText("http://pool.example.com")
    qtbot.mouseClick(window.server_view.continue_button, Qt.MouseButton.LeftButton)
    assert window.server_view.error.isVisible()
    assert "not encrypted" in window.server_view.error.text()
    assert window.page is window.server_view

    window.server_view.url.setText(backend.url + "/")
    qtbot.keyClick(window.server_view.url, Qt.Key.Key_Return)  # Enter submits
    await wait_until(lambda: window.page is window.sign_in_view, what="sign-in screen")
    assert backend.url in window.sign_in_view.server.text()
    settings = QSettings()
    assert settings.value("server/url") == backend.url
    assert settings.value("server/confirmed") in (True, "true")


async def test_register_with_live_checks_then_the_dashboard(make_app, backend, qtbot) -> None:
    app = make_app(backend.url)
    await app.start()
    window = app.window
    await wait_until(lambda: window.page is window.sign_in_view)
    qtbot.mouseClick(window.sign_in_view.register_button, Qt.MouseButton.LeftButton)
    view = window.register_view
    assert window.page is view
    user = unique_user()
    qtbot.keyClicks(view.username, "Bad Name")
    assert view.hints["username"].isVisible()
    view.username.clear()
    qtbot.keyClicks(view.username, user["username"])
    assert not view.hints["username"].isVisible()
    qtbot.keyClicks(view.email, user["email"])
    qtbot.keyClicks(view.password, "short")
    ticks = [label.text().startswith("✓") for label in view.checklist.lines]
    assert ticks == [False, False, True, False, False, True]  # lower case, and not well known
    assert not view.create_button.isEnabled()
    view.password.clear()
    qtbot.keyClicks(view.password, "P@ssw0rd-2026!")  # every class, but the server refuses it
    ticks = [label.text().startswith("✓") for label in view.checklist.lines]
    assert ticks == [True, True, True, True, True, False]
    assert "well-known" in view.checklist.lines[-1].text()
    view.password.clear()
    qtbot.keyClicks(view.password, user["password"])
    assert all(label.text().startswith("✓") for label in view.checklist.lines)
    qtbot.keyClicks(view.confirm, user["password"])
    qtbot.keyClicks(view.device_id, "esp-zz")
    assert "ESP-A1B2C3" in view.hints["device_id"].text()
    view.device_id.clear()
    qtbot.keyClicks(view.device_id, user["device_id"].lower())
    assert view.create_button.isEnabled()
    qtbot.keyClick(view.device_id, Qt.Key.Key_Return)  # Enter submits
    await wait_until(lambda: window.page is window.dashboard_view, within=10, what="dashboard")
    key = user["device_id"].lower()
    await wait_until(lambda: key in window.dashboard_view.cards, what="the device's card")
    card = window.dashboard_view.cards[key]
    assert card.device_id.text() == user["device_id"]


async def test_refused_registration_and_sign_in_show_the_servers_message(
    make_app, backend, qtbot
) -> None:
    taken = await register_user(backend.url)
    app = make_app(backend.url)
    await app.start()
    window = app.window
    await wait_until(lambda: window.page is window.sign_in_view)
    window.sign_in_view.register_requested.emit()
    view = window.register_view
    other = unique_user()
    view.username.setText(taken["username"])
    view.email.setText(other["email"])
    view.password.setText(other["password"])
    view.confirm.setText(other["password"])
    view.device_id.setText(other["device_id"])
    qtbot.mouseClick(view.create_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: view.error.isVisible(), what="refusal")
    assert view.error.text() == "That username is taken; choose another."  # by its reason
    assert window.page is view
    assert not view.busy.isVisible()

    qtbot.mouseClick(view.back_button, Qt.MouseButton.LeftButton)
    sign_in = window.sign_in_view
    qtbot.keyClicks(sign_in.username, taken["username"])
    qtbot.keyClicks(sign_in.password, "Wrong-Password-1!")
    qtbot.keyClick(sign_in.password, Qt.Key.Key_Return)
    assert sign_in.busy.isVisible()
    assert not sign_in.sign_in_button.isEnabled()
    await wait_until(lambda: sign_in.error.isVisible(), what="refusal")
    assert sign_in.error.text() == "Invalid username or password"
    assert not sign_in.busy.isVisible()


async def test_next_start_signs_in_by_itself(make_app, backend, qtbot, memory_keyring) -> None:
    user = await register_user(backend.url)
    first = make_app(backend.url)
    await first.start()
    sign_in = first.window.sign_in_view
    await wait_until(lambda: first.window.page is sign_in)
    qtbot.keyClicks(sign_in.username, user["username"])
    qtbot.keyClicks(sign_in.password, user["password"])
    qtbot.keyClick(sign_in.password, Qt.Key.Key_Return)
    await wait_until(lambda: first.window.page is first.window.dashboard_view)
    await first.shutdown()
    first.window.close()
    assert memory_keyring.entries  # the refresh token, nothing typed

    second = make_app(backend.url)  # a restart: new window, same keyring and settings
    await second.start()
    await wait_until(
        lambda: second.window.page is second.window.dashboard_view, what="restored session"
    )
    assert second.session.user.username == user["username"]


async def test_revoked_session_returns_to_sign_in_with_a_message(make_app, backend) -> None:
    user = await register_user(backend.url)
    app = make_app(backend.url)
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    await wait_until(lambda: app.window.page is app.window.dashboard_view)

    other = Session(BackendClient(backend.url), TokenStore("elsewhere"))
    await other.sign_in(user["username"], user["password"])
    [mine] = [s for s in await other.client.sessions() if not s.current]
    await other.client.end_session(mine.id)
    await other.client.aclose()

    app.session.client.expire_access_token_now()
    await app.dashboard.reload_devices()  # the next call the app makes
    view = app.window.sign_in_view
    await wait_until(lambda: app.window.page is view, what="back at sign-in")
    assert view.notice.isVisible()
    assert "Sign in again" in view.notice.text()
    assert view.notice.text().lower().count("sign in again") == 1  # said once
    assert app.session.store.load() is None


async def test_sign_out_ends_the_session_and_clears_the_keyring(
    make_app, backend, qtbot, memory_keyring
) -> None:
    user = await register_user(backend.url)
    app = make_app(backend.url)
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    await wait_until(lambda: app.window.page is app.window.dashboard_view)
    refresh = app.session.client.tokens.refresh
    assert memory_keyring.entries
    qtbot.mouseClick(app.window.dashboard_view.sign_out_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: app.window.page is app.window.sign_in_view)
    assert app.session.state is SessionState.SIGNED_OUT
    assert memory_keyring.entries == {}
    probe = BackendClient(backend.url)
    try:
        await probe.restore(refresh)
        raise AssertionError("the server still honours the signed-out session")
    except Exception as exc:  # noqa: BLE001
        assert "Sign in again" in str(exc)
    finally:
        await probe.aclose()


async def test_without_a_keyring_the_app_says_so(make_app, backend) -> None:
    import keyring
    import keyring.backends.fail

    keyring.set_keyring(keyring.backends.fail.Keyring())
    user = await register_user(backend.url)
    app = make_app(backend.url)
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    await wait_until(lambda: app.window.page is app.window.dashboard_view)
    notice = app.window.dashboard_view.notice
    assert notice.isVisible()
    assert "keyring" in notice.text()


async def test_expired_access_token_goes_unnoticed_in_the_window(make_app, backend, qtbot) -> None:
    user = await register_user(backend.url)
    app = make_app(backend.url)
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    await wait_until(lambda: app.window.page is app.window.dashboard_view)
    before = app.session.client.tokens.refresh
    app.session.client.tokens.access = "expired-or-garbage"  # the server answers 401
    qtbot.mouseClick(app.window.dashboard_view.account_button, Qt.MouseButton.LeftButton)
    view = app.window.account_view
    await wait_until(lambda: view.sessions.rowCount() == 1, what="sessions listed")
    assert app.window.page is view
    assert not view.notice.isVisible()
    assert app.session.client.tokens.refresh != before  # refreshed behind the scenes
    assert app.session.store.load().refresh_token == app.session.client.tokens.refresh
