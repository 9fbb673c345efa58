"""The wizard says the provisioning client's failures (codes from pooldesk.provisioning) in the
user's language, with their values in place: a label of another controller, on the real claim
page after picking a real simulated controller."""

from __future__ import annotations

from pooldesk.ui import i18n
from tests.app.wizard.ui.test_wizard import pick, signed_in_app


async def test_a_label_of_another_controller_is_said_in_spanish(
    make_app, backend, account, controllers, qtbot, qapp
) -> None:
    [sim] = await controllers(1)
    assert i18n.install_translator(qapp, "es") == "es"
    try:
        app = await signed_in_app(make_app, backend, account)
        app.dashboard.open_wizard()
        wizard = app.dashboard.wizard
        await pick(wizard, sim, qtbot)
        page = wizard.view.claim_page
        page.claim.setText(f"POOLDESK:1:ESP-000001:{sim.claim_code}")
        assert page.hint.isVisible()
        assert page.hint.text() == (
            f"Esta etiqueta es de ESP-000001, no de {sim.device_id}. Usa la etiqueta del "
            "controlador que elegiste."
        )
        page.claim.setText("POOLDESK:1:ESP-000001")  # not a whole label
        assert page.hint.text() == (
            "Este texto QR no es de la etiqueta de un controlador PoolDesk."
        )
        page.claim.setText("KQ4M-7XTZ")  # a code too short: its code's words, values in place
        assert page.hint.text() == (
            "Un código de reclamación tiene 16 letras y cifras (como KQ4M-7XTZ-2PB6-WRHD); "
            "este tiene 8."
        )
        page.for_someone.setChecked(True)  # an installer's set-up code, checked as it is typed
        page.setup_code.setText("7QK2-M4XU")
        assert page.setup_hint.text() == (
            "Un código de instalación solo tiene letras y cifras; revisa estos caracteres: U."
        )
        page.setup_code.setText("7QK2-M4XD")
        assert page.setup_hint.text() == (
            "Un código de instalación tiene 12 letras y cifras (como 7QK2-M4XD-9TRB); este tiene 8."
        )
        await wizard.cancel_now()
    finally:
        i18n.install_translator(qapp, "en")
