"""Messages a user can rely on: forms that do not jump when a message appears, no message left
over from an earlier page, server or user, waits that count down, each thing said once and in
plain words."""

from __future__ import annotations

import asyncio
import re

from PySide6.QtCore import Qt

from pooldesk.core.backend_client import ApiError, BackendClient
from tests.app.helpers import register_user
from tests.support.backend import BackendProcess
from tests.support.ports import free_port
from tests.support.waiting import wait_until

LEFT = Qt.MouseButton.LeftButton


async def test_a_refusal_does_not_move_the_form_and_is_gone_after_leaving_the_page(
    make_app, backend, qtbot
) -> None:
    user = await register_user(backend.url)
    app = make_app(backend.url)
    await app.start()
    view = app.window.sign_in_view
    await wait_until(lambda: app.window.page is view)
    await wait_until(lambda: view.username.isVisible())
    where = {w: w.mapTo(view, w.rect().topLeft()) for w in (view.username, view.password)}
    button_at = view.sign_in_button.mapTo(view, view.sign_in_button.rect().topLeft())
    qtbot.keyClicks(view.username, user["username"])
    qtbot.keyClicks(view.password, "Wrong-password-1!")
    qtbot.keyClick(view.password, Qt.Key.Key_Return)
    await wait_until(lambda: view.error.isVisible(), what="refusal")
    assert "Invalid username or password" in view.error.text()
    for widget, point in where.items():
        assert widget.mapTo(view, widget.rect().topLeft()) == point  # nothing moved
    assert view.sign_in_button.mapTo(view, view.sign_in_button.rect().topLeft()) == button_at

    qtbot.mouseClick(view.register_button, LEFT)
    assert app.window.page is app.window.register_view
    qtbot.mouseClick(app.window.register_view.back_button, LEFT)
    assert app.window.page is view
    assert not view.error.isVisible()
    assert view.error.text() == ""


async def test_the_wait_after_failed_sign_ins_counts_down_and_is_said_once(
    make_app, qtbot, tmp_path
) -> None:
    server = BackendProcess(tmp_path / "own-backend")  # its own failure counters
    (tmp_path / "own-backend").mkdir()
    server.start()
    try:
        user = await register_user(server.url)
        # the window first, so the lock below is still on when the app asks (a loaded machine
        # can take longer to start the app than the lock lasts)
        app = make_app(server.url)
        await app.start()
        view = app.window.sign_in_view
        await wait_until(lambda: app.window.page is view)
        client = BackendClient(server.url)
        refused: ApiError | None = None
        for _ in range(20):  # free attempts, then a lock that doubles each time
            try:
                await client.login(user["username"], "Wrong-password-1!")
            except ApiError as exc:
                if exc.status == 429 and (exc.retry_after or 0) >= 3:
                    refused = exc
                    break
                if exc.status == 429:  # locked: the next failure counts only after the lock
                    await asyncio.sleep(exc.retry_after or 1)
        await client.aclose()
        assert refused is not None
        view.username.setText(user["username"])
        view.password.setText("Wrong-password-1!")
        qtbot.keyClick(view.password, Qt.Key.Key_Return)
        await wait_until(lambda: "Try again in" in view.error.text(), what="throttled")
        text = view.error.text()
        assert text.count("again") == 1, text  # not "…try again in 16 seconds Try again in 16 s."
        assert text.startswith("Too many failed attempts.")
        first = int(re.search(r"in (\d+) s", text).group(1))
        await wait_until(
            lambda: f"in {first - 1} s" in view.error.text(), within=2.5, what="counting down"
        )
        await wait_until(
            lambda: view.error.text() == "You can try again now.", within=first + 2, what="done"
        )
    finally:
        server.stop()


async def test_an_unreachable_server_is_said_without_jargon(make_app, qtbot) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    app = make_app(url)
    await app.start()
    view = app.window.sign_in_view
    await wait_until(lambda: app.window.page is view)
    view.username.setText("someone")
    view.password.setText("Whatever-it-is-1!")
    qtbot.keyClick(view.password, Qt.Key.Key_Return)
    await wait_until(lambda: view.error.isVisible(), what="error")
    assert view.error.text() == (
        f"Cannot reach the server at {url}. Check the address and that the server is running."
    )
    assert "Error" not in view.error.text()


async def test_reconnect_countdown_counts(signed_in_on_plain_broker, broker) -> None:
    app, _key, _controller, _ = signed_in_on_plain_broker
    indicator = app.window.dashboard_view.connection
    broker.stop()
    try:
        seen: set[str] = set()

        def retrying() -> bool:
            found = re.search(r"retrying in (\d+) s", indicator.text())
            if found:
                seen.add(found.group(1))
            return len(seen) >= 2

        await wait_until(retrying, within=40, what="a countdown with two values")
    finally:
        broker.start()
