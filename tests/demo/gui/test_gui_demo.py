"""`pooldesk demo` with a window: the real app, offscreen, against the demo's own backend;
closing the window stops the backend, its broker and the controllers."""

from __future__ import annotations

import asyncio

import httpx
from PySide6.QtCore import Qt

from pooldesk.core.provisioning_flow import Step
from pooldesk.demo.gui import GuiDemo
from pooldesk.demo.processes import processes_using
from tests.support.waiting import wait_until as support_wait_until

LEFT = Qt.MouseButton.LeftButton


async def wait_until(predicate, within: float = 20.0, what: str = "") -> None:
    """The shared poller with this file's longer default: the demo starts real processes."""
    await support_wait_until(predicate, within, what)


async def test_the_app_signs_in_to_the_demo_and_closing_stops_everything(qtbot) -> None:
    lines: list[str] = []
    demo = GuiDemo(out=lines.append)
    running = asyncio.ensure_future(demo.run())
    try:
        await wait_until(lambda: demo.app is not None and demo.app.window.isVisible(), 40, "window")
        window = demo.app.window
        await wait_until(lambda: window.page is window.sign_in_view, what="sign-in screen")
        url = demo.env.backend_url
        assert url in window.sign_in_view.server.text()
        assert any(demo.account["password"] in line for line in lines)  # the printed account
        assert any(c.label_code in "\n".join(lines) for c in demo.env.controllers)
        data_dir = demo.env.data_dir
        assert processes_using(data_dir), "backend and broker run while the window is open"

        view = window.sign_in_view
        assert view.username.text() == demo.account["username"]
        qtbot.keyClicks(view.password, demo.account["password"])
        qtbot.keyClick(view.password, "\r")
        await wait_until(lambda: window.page is window.dashboard_view, what="dashboard")
        key = demo.env.controllers[0].device_id.lower()
        await wait_until(lambda: key in window.dashboard_view.cards, what="the account's card")

        window.close()
        await asyncio.wait_for(running, 60)
    finally:
        if not running.done():
            running.cancel()
    assert processes_using(data_dir) == []
    assert not data_dir.exists()
    async with httpx.AsyncClient() as http:
        try:
            await http.get(f"{url}/healthz", timeout=1)
            raise AssertionError("the demo's backend still answers")
        except httpx.ConnectError:
            pass
    assert lines[-1] == "PoolDesk demo: everything it started has stopped."


def _select(widget, data) -> None:
    for row in range(widget.count()):
        if widget.item(row).data(Qt.ItemDataRole.UserRole) == data:
            widget.setCurrentRow(row)
            return
    raise AssertionError(f"{data!r} is not listed")


async def test_the_newcomers_path_through_the_wizard_to_a_switched_pump(qtbot) -> None:
    """Sign in with the printed account, add the first controller with the wizard (claim code
    from its label, the pool's Wi-Fi), switch its pump from the card, close."""
    demo = GuiDemo(out=lambda _line: None)
    running = asyncio.ensure_future(demo.run())
    try:
        await wait_until(lambda: demo.app is not None and demo.app.window.isVisible(), 40)
        app, env = demo.app, demo.env
        unit = env.controllers[0]
        window = app.window
        await wait_until(lambda: window.page is window.sign_in_view, what="sign-in")
        qtbot.keyClicks(window.sign_in_view.password, demo.account["password"])
        qtbot.keyClick(window.sign_in_view.password, Qt.Key.Key_Return)
        await wait_until(lambda: window.page is window.dashboard_view, what="dashboard")

        qtbot.mouseClick(window.dashboard_view.add_button, LEFT)
        wizard = app.dashboard.wizard
        await wait_until(lambda: wizard.flow.step is Step.PICK, what="scan done")
        _select(wizard.view.scan_page.devices, unit.device_id)
        qtbot.mouseClick(wizard.view.scan_page.next, LEFT)
        await wait_until(lambda: wizard.view.page is wizard.view.claim_page, what="claim page")
        qtbot.keyClicks(wizard.view.claim_page.claim, unit.label_code)
        qtbot.keyClick(wizard.view.claim_page.claim, Qt.Key.Key_Return)
        wifi = wizard.view.wifi_page
        await wait_until(
            lambda: (
                wizard.flow.step is Step.WIFI and wizard.view.page is wifi and not wizard.tasks.busy
            ),
            what="the controller's networks",
        )
        _select(wifi.networks, env.wifi_ssid)
        wifi.password.setText(env.wifi_password)
        qtbot.mouseClick(wifi.connect_button, LEFT)
        await wait_until(lambda: wizard.view.page is wizard.view.done_page, 30, "online")
        qtbot.mouseClick(wizard.view.done_page.finish, LEFT)
        await wait_until(lambda: app.dashboard.wizard is None, what="wizard closed")

        card = window.dashboard_view.cards[unit.device_id.lower()]
        await wait_until(lambda: "Online" in card.status.text(), what="card online")
        await wait_until(lambda: card.toggle.isEnabled(), what="pump state known")
        qtbot.mouseClick(card.toggle, LEFT)
        # A new controller follows its schedule: switching by hand asks first.
        await wait_until(
            lambda: app.dashboard.dialog is not None and app.dashboard.dialog.isVisible(),
            what="the question before leaving the schedule",
        )
        qtbot.mouseClick(app.dashboard.dialog.confirm_button, LEFT)
        await wait_until(lambda: card.toggle.text() == "Turn off", what="confirmed")
        assert unit.sim.relay_on
        data_dir = env.data_dir
        window.close()
        await asyncio.wait_for(running, 60)
    finally:
        if not running.done():
            running.cancel()
    assert processes_using(data_dir) == []
