"""The wizard's installer option in the real window (docs/sharing.md "Set-up codes"): the
owner's set-up code beside the claim code, the controller goes to the owner, Finish ends the
installer's access. Simulated controller on the virtual radio, the real backend."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from pooldesk.core.backend_client import ApiError, BackendClient
from tests.app.helpers import unique_user
from tests.app.wizard.ui.test_wizard import LEFT, choose_wifi, pick, reach_done_page
from tests.support.waiting import wait_until


async def test_an_installer_adds_the_owners_controller_with_a_set_up_code(
    make_app, backend, account, controllers, qtbot
) -> None:
    [sim] = await controllers(1)
    installer = unique_user()
    probe = BackendClient(backend.url)
    await probe.register(installer["username"], installer["email"], installer["password"], None)
    await probe.login(installer["username"], installer["password"])
    code = await account.client.create_setup_code()
    try:
        app = make_app(backend.url)
        await app.start()
        await app.session.sign_in(installer["username"], installer["password"])
        await wait_until(lambda: app.window.page is app.window.dashboard_view, what="dashboard")
        qtbot.mouseClick(app.window.dashboard_view.add_button, LEFT)
        wizard = app.dashboard.wizard
        await pick(wizard, sim, qtbot)
        page = wizard.view.claim_page
        assert not page.setup_code.isVisible()
        qtbot.mouseClick(page.for_someone, LEFT)
        assert page.setup_code.isVisible()
        qtbot.keyClicks(page.setup_code, code.code[:8])
        assert "has 12 letters" in page.setup_hint.text()  # checked while typing
        page.setup_code.setText(f"POOLDESK-SETUP:{code.code}")  # the owner's QR text
        assert not page.setup_hint.isVisible()
        qtbot.keyClicks(page.claim, sim.claim_code)
        qtbot.keyClick(page.claim, Qt.Key.Key_Return)
        await wait_until(lambda: wizard.view.page is wizard.view.wifi_page, what="Wi-Fi page")
        assert not wizard.view.wifi_page.name.isVisible()  # the owner names it
        await choose_wifi(wizard, qtbot, "PoolNet", "poolpass123")
        done = wizard.view.done_page
        await reach_done_page(wizard)
        lines = [label.text() for label in wizard.view.progress_page.lines if not label.isHidden()]
        assert f"Add the controller to the account of {account.username}" in lines[0]
        assert done.note.text().startswith(f"It now reports to the dashboard of {account.username}")
        assert (await probe.device(sim.device_id)).status == "online"  # during the grant
        qtbot.mouseClick(done.finish, LEFT)
        await wait_until(lambda: app.dashboard.wizard is None, what="wizard closed")
        with pytest.raises(ApiError) as gone:
            await probe.device(sim.device_id)
        assert gone.value.status == 404
        assert sim.device_id in {d.device_id for d in await account.client.devices()}
        assert app.window.dashboard_view.cards == {}  # nothing on the installer's dashboard
    finally:
        await probe.aclose()
