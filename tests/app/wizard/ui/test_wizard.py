"""The whole wizard in the real window: simulated controllers on the virtual radio, the real
backend and its managed Mosquitto; the dashboard shows the result."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from shiboken6 import isValid

from pooldesk.core.provisioning_flow import Step
from pooldesk.ui.wizard.view import OTHER_NETWORK
from pooldesk_firmware.sim.device import FakeNetwork, default_networks
from tests.app.wizard.conftest import device_ids_on
from tests.support.waiting import wait_until

LEFT = Qt.MouseButton.LeftButton
# The flow's own deadlines: 60 s to connect, then 20 s to be seen online. A busy machine may
# use much of them; a product that gives up shows its failure page and never the done page.
ONLINE_WITHIN_S = 90


async def reach_done_page(wizard, *, steps_before: int = 0) -> None:
    """Wait for the done page. A pass that fails instead fails the test as soon as it shows its
    failure, with what the progress page says. `steps_before`: len(flow.timings) before a retry
    was clicked, so the failure being retried does not count."""
    view, flow = wizard.view, wizard.flow

    def ended() -> bool:
        failed = flow.step is Step.FAILED and len(flow.timings) > steps_before
        return view.page is view.done_page or failed

    await wait_until(ended, within=ONLINE_WITHIN_S, what="the done page or a failure")
    shown = [label.text() for label in view.progress_page.lines if not label.isHidden()]
    assert view.page is view.done_page, [*shown, view.progress_page.advice.text()]


async def signed_in_app(make_app, backend, account):
    app = make_app(backend.url)
    await app.start()
    await app.session.sign_in(account.username, account.password)
    await wait_until(lambda: app.window.page is app.window.dashboard_view, what="dashboard")
    return app


def select_item(widget, data) -> None:
    for row in range(widget.count()):
        if widget.item(row).data(Qt.ItemDataRole.UserRole) == data:
            widget.setCurrentRow(row)
            return
    raise AssertionError(f"{data!r} is not listed")


async def pick(wizard, sim, qtbot) -> None:
    page = wizard.view.scan_page
    await wait_until(lambda: wizard.flow.step is Step.PICK, within=10, what="scan done")
    select_item(page.devices, sim.device_id)
    qtbot.mouseClick(page.next, LEFT)
    await wait_until(lambda: wizard.view.page is wizard.view.claim_page, what="claim page")


async def enter_claim(wizard, code: str, qtbot) -> None:
    page = wizard.view.claim_page
    page.claim.clear()
    qtbot.keyClicks(page.claim, code)
    qtbot.keyClick(page.claim, Qt.Key.Key_Return)


async def choose_wifi(wizard, qtbot, ssid: str, password: str, *, name: str = "") -> None:
    page = wizard.view.wifi_page
    await wait_until(
        lambda: (
            wizard.flow.step is Step.WIFI and wizard.view.page is page and not wizard.tasks.busy
        ),
        # The controller scans only between connection attempts (an ESP32 scan during one
        # returns nothing), so its answer may wait for a reconnect in progress: docs/firmware.md.
        within=35,
        what="the controller's networks",
    )
    if ssid in [n.ssid for n in wizard.flow.networks]:
        select_item(page.networks, ssid)
    else:
        select_item(page.networks, OTHER_NETWORK)
        page.other_ssid.setText(ssid)
    page.password.setText(password)
    page.name.setText(name)
    qtbot.mouseClick(page.connect_button, LEFT)


def grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, 16, 4))


async def test_scan_to_online_and_the_dashboard_shows_it(
    make_app, backend, account, controllers, qtbot
) -> None:
    [sim] = await controllers(1)
    app = await signed_in_app(make_app, backend, account)
    qtbot.mouseClick(app.window.dashboard_view.add_button, LEFT)
    wizard = app.dashboard.wizard
    assert wizard is not None
    assert wizard.view.isVisible()
    page = wizard.view.scan_page
    await wait_until(lambda: page.progress.value() > 0, what="scan progress")
    await pick(wizard, sim, qtbot)
    assert "signal" in page.devices.currentItem().text()
    assert "already set up" not in page.devices.currentItem().text()

    await enter_claim(wizard, grouped(sim.claim_code).lower(), qtbot)
    await choose_wifi(wizard, qtbot, "PoolNet", "poolpass123", name="Pool house")
    done = wizard.view.done_page
    await reach_done_page(wizard)
    lines = [label.text() for label in wizard.view.progress_page.lines if not label.isHidden()]
    assert len(lines) == 5
    assert all("✓" in line for line in lines)
    assert any("address" in line for line in lines)  # the IP the controller got
    assert sim.device_id in done.heading.text()

    view = wizard.view
    qtbot.mouseClick(done.finish, LEFT)
    await wait_until(lambda: app.dashboard.wizard is None, what="wizard closed")
    await wait_until(lambda: not isValid(view), what="window closed and freed")
    key = sim.device_id.lower()
    cards = app.window.dashboard_view.cards
    await wait_until(lambda: key in cards and cards[key].name.text() == "Pool house")
    await wait_until(lambda: "Online" in cards[key].status.text(), within=15, what="card online")


async def test_wrong_claim_code_says_so_then_the_right_one(
    make_app, backend, account, controllers, qtbot
) -> None:
    [sim] = await controllers(1)
    app = await signed_in_app(make_app, backend, account)
    app.dashboard.open_wizard()
    wizard = app.dashboard.wizard
    await pick(wizard, sim, qtbot)
    page = wizard.view.claim_page
    page.claim.setText("KQ4M-7XTZ")
    assert page.hint.isVisible()
    assert "16" in page.hint.text()
    wrong = "A" * 16 if sim.claim_code != "A" * 16 else "B" * 16
    await enter_claim(wizard, wrong, qtbot)
    message = wizard.view.message
    await wait_until(lambda: "does not match" in message.text(), what="refusal")
    assert wizard.view.page is page
    assert page.open.isEnabled()
    page.claim.setText(f"POOLDESK:1:ESP-000001:{sim.claim_code}")  # another unit's label
    assert "belongs to ESP-000001" in page.hint.text()
    await enter_claim(wizard, f"POOLDESK:1:{sim.device_id}:{sim.claim_code}", qtbot)  # its QR
    await wait_until(lambda: wizard.view.page is wizard.view.wifi_page, what="session")
    qtbot.mouseClick(wizard.view.cancel, LEFT)
    await wait_until(lambda: app.dashboard.wizard is None, what="closed")


async def test_wrong_wifi_password_then_the_right_one(
    make_app, backend, account, controllers, qtbot
) -> None:
    [sim] = await controllers(1)
    app = await signed_in_app(make_app, backend, account)
    app.dashboard.open_wizard()
    wizard = app.dashboard.wizard
    await pick(wizard, sim, qtbot)
    await enter_claim(wizard, sim.claim_code, qtbot)
    await choose_wifi(wizard, qtbot, "PoolNet", "not-the-password")
    progress = wizard.view.progress_page
    await wait_until(lambda: progress.password_again.isVisible(), within=30, what="failure")
    assert "password is wrong" in progress.advice.text()
    assert any("✗" in label.text() and "Wi-Fi" in label.text() for label in progress.lines)

    qtbot.mouseClick(progress.password_again, LEFT)
    wifi = wizard.view.wifi_page
    assert wizard.view.page is wifi
    assert wifi.password.text() == ""
    wifi.password.setText("poolpass123")
    steps = len(wizard.flow.timings)
    qtbot.keyClick(wifi.password, Qt.Key.Key_Return)
    await reach_done_page(wizard, steps_before=steps)
    assert sim.online
    assert sim.device.boots == 1
    qtbot.mouseClick(wizard.view.done_page.finish, LEFT)
    await wait_until(lambda: app.dashboard.wizard is None)


async def test_network_not_found_then_rescan(
    make_app, backend, account, controllers, qtbot
) -> None:
    [sim] = await controllers(1)
    app = await signed_in_app(make_app, backend, account)
    app.dashboard.open_wizard()
    wizard = app.dashboard.wizard
    await pick(wizard, sim, qtbot)
    await enter_claim(wizard, sim.claim_code, qtbot)
    await choose_wifi(wizard, qtbot, "HiddenPool", "whatever-123")  # "Other network…"
    progress = wizard.view.progress_page
    await wait_until(lambda: progress.rescan.isVisible(), within=30, what="not found")
    assert "cannot hear that network" in progress.advice.text()
    assert not progress.password_again.isVisible()

    sim.device.networks.append(FakeNetwork("HiddenPool", "whatever-123", rssi=-45))
    qtbot.mouseClick(progress.rescan, LEFT)
    wifi = wizard.view.wifi_page
    await wait_until(lambda: "HiddenPool" in [n.ssid for n in wizard.flow.networks])
    assert wizard.view.page is wifi
    select_item(wifi.networks, "HiddenPool")
    assert not wifi.other_ssid.isVisible()
    steps = len(wizard.flow.timings)
    qtbot.mouseClick(wifi.connect_button, LEFT)
    await reach_done_page(wizard, steps_before=steps)
    assert sim.stored_config()["binding"]["ssid"] == "HiddenPool"
    qtbot.mouseClick(wizard.view.done_page.finish, LEFT)
    await wait_until(lambda: app.dashboard.wizard is None)


async def test_two_controllers_and_identify_blinks_only_the_picked_one(
    make_app, backend, account, controllers, qtbot
) -> None:
    first, second = await controllers(2)
    app = await signed_in_app(make_app, backend, account)
    app.dashboard.open_wizard()
    wizard = app.dashboard.wizard
    page = wizard.view.scan_page
    await wait_until(lambda: wizard.flow.step is Step.PICK, within=10)
    listed = {
        page.devices.item(r).data(Qt.ItemDataRole.UserRole) for r in range(page.devices.count())
    }
    assert {first.device_id, second.device_id} <= listed
    await pick(wizard, second, qtbot)
    assert second.device_id in wizard.view.claim_page.heading.text()
    qtbot.mouseClick(wizard.view.claim_page.identify, LEFT)
    await wait_until(lambda: "blinking" in wizard.view.message.text(), what="identify")
    assert second.controller.identify_until is not None
    assert first.controller.identify_until is None
    # Its LED blinks fast (100 ms), unlike the unbound pattern (1 s) of the other one: in the
    # same window (however long a busy machine makes it), at most one edge a second there.
    led = second.image.module("fw_board").LED_PIN
    started = time.monotonic()
    before = {s.device_id: s.device.pin_changes.get(led, 0) for s in (first, second)}

    def edges(sim) -> int:
        return sim.device.pin_changes.get(led, 0) - before[sim.device_id]

    await wait_until(lambda: edges(second) >= 6, within=5, what="fast blinking")
    slow = edges(first)
    window = time.monotonic() - started
    assert slow <= int(window) + 1, (slow, window)
    qtbot.mouseClick(wizard.view.cancel, LEFT)
    await wait_until(lambda: app.dashboard.wizard is None)
    assert not (await device_ids_on(account.client)) & {first.device_id, second.device_id}


async def test_cancel_midway_leaves_no_trace(
    make_app, backend, account, controllers, qtbot
) -> None:
    [sim] = await controllers(1)
    app = await signed_in_app(make_app, backend, account)
    app.dashboard.open_wizard()
    wizard = app.dashboard.wizard
    await pick(wizard, sim, qtbot)
    await enter_claim(wizard, sim.claim_code, qtbot)
    show_progress = wizard.flow.on_progress
    registered: list[bool] = []

    def installer_clicks_cancel(progress) -> None:  # right after the device was registered
        show_progress(progress)
        if progress.step is Step.CREDENTIALS and not registered:
            registered.append(wizard.flow.device_registered_here)
            wizard.view.cancel.click()

    wizard.flow.on_progress = installer_clicks_cancel
    await choose_wifi(wizard, qtbot, "PoolNet", "poolpass123")
    await wait_until(lambda: app.dashboard.wizard is None, within=15, what="cancelled")
    assert registered == [True]  # it was on the account when Cancel was clicked
    assert wizard.flow.step is Step.CANCELLED
    await wait_until(lambda: not isValid(wizard), what="wizard freed")
    assert sim.device_id not in await device_ids_on(account.client)
    assert not sim.controller.bound
    assert sim.stored_config().get("binding") is None
    await wait_until(lambda: sim.device_id.lower() not in app.window.dashboard_view.cards)
    assert app.window.dashboard_view.notice.text() == ""


async def test_change_wifi_on_a_bound_controller(
    make_app, backend, account, controllers, qtbot
) -> None:
    networks = [*default_networks(), FakeNetwork("NewRouter", "fresh-router-9", rssi=-40)]
    [sim] = await controllers(1, networks=networks)
    app = await signed_in_app(make_app, backend, account)
    app.dashboard.open_wizard()  # set it up first, the ordinary way
    wizard = app.dashboard.wizard
    await pick(wizard, sim, qtbot)
    await enter_claim(wizard, sim.claim_code, qtbot)
    await choose_wifi(wizard, qtbot, "PoolNet", "poolpass123")
    await wait_until(lambda: wizard.view.page is wizard.view.done_page, within=30)
    qtbot.mouseClick(wizard.view.done_page.finish, LEFT)
    await wait_until(lambda: app.dashboard.wizard is None)
    key = sim.device_id.lower()
    cards = app.window.dashboard_view.cards
    await wait_until(lambda: key in cards and "Online" in cards[key].status.text(), within=15)
    before = sim.stored_config()["binding"]
    await sim.hold_button(2)  # Bluetooth is off on an online controller: the button wakes it

    cards[key].change_wifi_action.trigger()  # the card's ⋯ menu
    wizard = app.dashboard.wizard
    assert wizard.target == sim.device_id
    assert "Change Wi-Fi" in wizard.view.windowTitle()
    await pick(wizard, sim, qtbot)
    assert "already set up" in wizard.view.scan_page.devices.currentItem().text()
    await enter_claim(wizard, sim.claim_code, qtbot)
    assert wizard.view.wifi_page.name.isHidden()
    await choose_wifi(wizard, qtbot, "NewRouter", "fresh-router-9")
    await wait_until(lambda: wizard.view.page is wizard.view.done_page, within=30)
    lines = [label.text() for label in wizard.view.progress_page.lines if not label.isHidden()]
    assert len(lines) == 4  # nothing registered this time
    qtbot.mouseClick(wizard.view.done_page.finish, LEFT)
    await wait_until(lambda: app.dashboard.wizard is None)

    after = sim.stored_config()["binding"]
    assert after["ssid"] == "NewRouter"
    assert after["password"] == "fresh-router-9"
    kept = ("mqtt_user", "mqtt_password", "client_id", "topic_prefix", "broker_url", "username")
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    await wait_until(lambda: "Online" in cards[key].status.text(), within=15)
    assert [d for d in await device_ids_on(account.client) if d == sim.device_id]


async def test_lost_bluetooth_link_returns_to_the_list_with_a_plain_message(
    make_app, backend, account, controllers, qtbot
) -> None:
    [sim] = await controllers(1)
    app = await signed_in_app(make_app, backend, account)
    app.dashboard.open_wizard()
    wizard = app.dashboard.wizard
    await pick(wizard, sim, qtbot)
    await enter_claim(wizard, sim.claim_code, qtbot)
    await wait_until(lambda: wizard.view.wifi_page.networks.count() > 1)
    await sim.power_cut()
    await wait_until(lambda: wizard.flow.link_lost, what="disconnect noticed")
    await choose_wifi(wizard, qtbot, "PoolNet", "poolpass123")
    await wait_until(lambda: wizard.view.page is wizard.view.scan_page, what="back to the list")
    assert "pick it again" in wizard.view.message.text()
    assert wizard.view.scan_page.next.isEnabled()

    await sim.power_on()  # back in range: pick it again from the same list and finish
    select_item(wizard.view.scan_page.devices, sim.device_id)
    qtbot.mouseClick(wizard.view.scan_page.next, LEFT)
    await wait_until(lambda: wizard.view.page is wizard.view.claim_page, what="claim page")
    await enter_claim(wizard, sim.claim_code, qtbot)
    await choose_wifi(wizard, qtbot, "PoolNet", "poolpass123")
    await reach_done_page(wizard)
    qtbot.mouseClick(wizard.view.done_page.finish, LEFT)
    await wait_until(lambda: app.dashboard.wizard is None)


async def test_signing_out_mid_wizard_cancels_it(
    make_app, backend, account, controllers, qtbot
) -> None:
    [sim] = await controllers(1)
    app = await signed_in_app(make_app, backend, account)
    qtbot.mouseClick(app.window.dashboard_view.add_button, LEFT)
    wizard = app.dashboard.wizard
    await pick(wizard, sim, qtbot)
    await enter_claim(wizard, sim.claim_code, qtbot)
    await choose_wifi(wizard, qtbot, "PoolNet", "not-the-password")
    progress = wizard.view.progress_page
    await wait_until(lambda: progress.password_again.isVisible(), within=30, what="failure")
    assert sim.device_id in await device_ids_on(account.client)

    qtbot.mouseClick(app.window.dashboard_view.sign_out_button, LEFT)
    await wait_until(lambda: app.window.page is app.window.sign_in_view, what="signed out")
    assert app.dashboard.wizard is None
    assert wizard.flow.step is Step.CANCELLED
    assert sim.device_id not in await device_ids_on(account.client)
