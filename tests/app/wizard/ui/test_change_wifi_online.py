"""Change Wi-Fi on a controller that is online: its Bluetooth is off until its button is pressed
(docs/provisioning.md §1), so the wizard asks for the press first and finds it after Rescan; the
Wi-Fi password is counted in bytes as the controller counts it."""

from __future__ import annotations

from PySide6.QtCore import Qt

from pooldesk.core.provisioning_flow import Step
from pooldesk_firmware.sim.device import FakeNetwork, default_networks
from tests.app.wizard.ui.test_bluetooth_unavailable import listed
from tests.app.wizard.ui.test_wizard import choose_wifi, enter_claim, pick, signed_in_app
from tests.support.waiting import wait_until

LEFT = Qt.MouseButton.LeftButton
PISCINA_PASSWORD = "contraseña-piscina-ñandú"  # 24 characters, 27 bytes


async def test_change_wifi_asks_for_the_button_then_a_non_ascii_password(
    make_app, backend, account, controllers, qtbot
) -> None:
    networks = [*default_networks(), FakeNetwork("Piscina", PISCINA_PASSWORD, rssi=-45)]
    [sim] = await controllers(1, networks=networks)
    app = await signed_in_app(make_app, backend, account)
    app.dashboard.open_wizard()
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

    cards[key].change_wifi_action.trigger()  # no button press yet: its Bluetooth is off
    wizard = app.dashboard.wizard
    page = wizard.view.scan_page
    assert not page.wake_step.isHidden()
    assert "button" in page.wake_step.text()
    assert "Rescan" in page.wake_step.text()
    await wait_until(lambda: wizard.flow.step is Step.PICK and not wizard.tasks.busy, within=15)
    assert sim.device_id not in listed(wizard)
    assert "Press its button briefly" in wizard.view.message.text()
    assert page.rescan.isEnabled()

    await sim.hold_button(2)  # a short press: Bluetooth on for 10 minutes
    qtbot.mouseClick(page.rescan, LEFT)
    await wait_until(
        lambda: sim.device_id in listed(wizard), within=15, what="heard after the press"
    )
    await pick(wizard, sim, qtbot)
    await enter_claim(wizard, sim.claim_code, qtbot)

    wifi = wizard.view.wifi_page
    too_long = "ñ" * 32  # 32 characters but 64 bytes: the controller would refuse it
    await choose_wifi(wizard, qtbot, "Piscina", too_long)
    assert "63 bytes" in wifi.hint.text()
    assert wizard.view.page is wifi
    assert wizard.flow.step is Step.WIFI
    assert sim.stored_config()["binding"]["ssid"] == "PoolNet"

    await choose_wifi(wizard, qtbot, "Piscina", PISCINA_PASSWORD)
    await wait_until(lambda: wizard.view.page is wizard.view.done_page, within=30)
    qtbot.mouseClick(wizard.view.done_page.finish, LEFT)
    await wait_until(lambda: app.dashboard.wizard is None)
    binding = sim.stored_config()["binding"]
    assert binding["ssid"] == "Piscina"
    assert binding["password"] == PISCINA_PASSWORD
    await wait_until(lambda: "Online" in cards[key].status.text(), within=15)
