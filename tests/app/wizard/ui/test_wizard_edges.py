"""The wizard's edges in the real window: the list kept when going back, a name typed on a retry,
a password that does not follow a network switch, Return on the success page, and a controller
someone else owns refused at the claim step, in the user's language, with advice."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, Qt

from pooldesk.core.backend_client import ApiError, BackendClient
from pooldesk.core.failures import Code, failure
from pooldesk.core.provisioning_flow import Step
from pooldesk.ui import format as fmt
from pooldesk.ui import i18n
from pooldesk_contract.refusals import Reason
from tests.app.helpers import unique_user
from tests.app.wizard.conftest import device_ids_on
from tests.app.wizard.ui.test_bluetooth_unavailable import listed
from tests.app.wizard.ui.test_wizard import (
    choose_wifi,
    enter_claim,
    pick,
    reach_done_page,
    signed_in_app,
)
from tests.support.waiting import wait_until

LEFT = Qt.MouseButton.LeftButton


async def test_back_to_the_list_keeps_the_controller_listed(
    make_app, backend, account, controllers, qtbot
) -> None:
    [sim] = await controllers(1)
    app = await signed_in_app(make_app, backend, account)
    app.dashboard.open_wizard()
    wizard = app.dashboard.wizard
    await pick(wizard, sim, qtbot)
    qtbot.mouseClick(wizard.view.claim_page.back, LEFT)
    assert wizard.view.page is wizard.view.scan_page
    assert sim.device_id in listed(wizard)
    assert wizard.view.scan_page.next.isEnabled()
    qtbot.mouseClick(wizard.view.scan_page.rescan, LEFT)  # it is connected: it cannot advertise
    await wait_until(lambda: wizard.flow.step is Step.PICK and not wizard.tasks.busy)
    assert sim.device_id in listed(wizard)
    await pick(wizard, sim, qtbot)  # and it can be picked again
    await wizard.cancel_now()


async def test_name_on_retry_password_per_network_and_return_finishes(
    make_app, backend, account, controllers, qtbot
) -> None:
    [sim] = await controllers(1)
    app = await signed_in_app(make_app, backend, account)
    app.dashboard.open_wizard()
    wizard = app.dashboard.wizard
    await pick(wizard, sim, qtbot)
    await enter_claim(wizard, sim.claim_code, qtbot)
    wifi = wizard.view.wifi_page
    await wait_until(lambda: wizard.view.page is wifi and not wizard.tasks.busy, what="networks")
    ssids = [n.ssid for n in wizard.flow.networks]
    assert "PoolNet" in ssids
    assert len(ssids) > 1
    qtbot.keyClicks(wifi.password, "secret-for-the-first-one")
    other = next(s for s in ssids if s != "PoolNet")
    for row in range(wifi.networks.count()):
        if wifi.networks.item(row).data(Qt.ItemDataRole.UserRole) == other:
            wifi.networks.setCurrentRow(row)
    assert wifi.password.text() == ""  # a password belongs to its network

    await choose_wifi(wizard, qtbot, "PoolNet", "not-the-password")
    progress = wizard.view.progress_page
    await wait_until(lambda: progress.password_again.isVisible(), within=30, what="failure")
    qtbot.mouseClick(progress.password_again, LEFT)
    wifi.password.setText("poolpass123")
    wifi.name.setText("Pool house")  # typed only now, on the retry
    steps = len(wizard.flow.timings)
    qtbot.mouseClick(wifi.connect_button, LEFT)
    done = wizard.view.done_page
    await reach_done_page(wizard, steps_before=steps)
    assert not wizard.view.cancel.isVisible()
    assert done.finish.isDefault()
    names = {d.device_id: d.name for d in await account.client.devices()}
    assert names[sim.device_id] == "Pool house"
    qtbot.keyClick(done.finish, Qt.Key.Key_Return)
    await wait_until(lambda: app.dashboard.wizard is None, what="finished with Return")
    assert sim.online


ANOTHER_ACCOUNT = {
    "en": (
        "{id} is already registered to another account. Only its owner can add it "
        "elsewhere: ask them to remove it from their dashboard (⋯ → Remove from my account), "
        "then try again. Nothing was changed on the controller."
    ),
    "es": (
        "{id} ya está registrado en otra cuenta. Solo su propietario puede "
        "añadirlo en otro sitio: pídele que lo quite de su panel (⋯ → Quitar de mi cuenta) y "
        "vuelve a intentarlo. No se ha cambiado nada en el controlador."
    ),
}


@pytest.mark.parametrize("language", ["en", "es"])
async def test_a_controller_owned_by_someone_else_is_refused_at_the_claim_step(
    make_app, backend, account, controllers, qtbot, qapp, language
) -> None:
    """The server's refusal has its own reason (`device_registered_elsewhere`): the wizard words
    it from the app's table with the id it asked about, and adds how to get the device released,
    in the language on screen, never from the server's English."""
    [sim] = await controllers(1)
    owner = unique_user()
    other = BackendClient(backend.url)
    await other.register(owner["username"], owner["email"], owner["password"], sim.device_id)
    await other.aclose()
    with pytest.raises(ApiError) as refused:  # what the wizard reads: the reason, not the words
        await account.client.add_device(sim.device_id, claim_code=sim.claim_code)
    assert refused.value.reason == Reason.DEVICE_REGISTERED_ELSEWHERE
    assert refused.value.code == "conflict"
    i18n.install_translator(qapp, language)
    try:
        app = await signed_in_app(make_app, backend, account)
        app.dashboard.open_wizard()
        wizard = app.dashboard.wizard
        await pick(wizard, sim, qtbot)
        await enter_claim(wizard, sim.claim_code, qtbot)
        message = wizard.view.message
        expected = ANOTHER_ACCOUNT[language].format(id=sim.device_id)
        await wait_until(lambda: message.text() == expected, within=15, what="refusal")
    finally:
        i18n.install_translator(qapp, "en")
    await wait_until(lambda: not wizard.tasks.busy, what="not left in progress")
    assert wizard.view.page is wizard.view.claim_page
    assert wizard.flow.step is Step.CLAIM
    assert not wizard.view.busy.isVisible()
    assert wizard.view.claim_page.open.isEnabled()
    assert wizard.flow.networks == []  # no Wi-Fi scan, no password asked for
    assert sim.device_id not in await device_ids_on(account.client)
    await wizard.cancel_now()


def test_the_refusal_is_translated(qapp) -> None:
    i18n.install_translator(qapp, "es")
    try:
        refusal = failure(Code.DEVICE_REGISTERED_ELSEWHERE, device="ESP-A1B2C3")
        text = fmt.core_message(refusal)
        assert text == "ESP-A1B2C3 ya está registrado en otra cuenta."
        assert QCoreApplication.translate("WizardController", "Finish") != ""
    finally:
        i18n.install_translator(qapp, "en")
