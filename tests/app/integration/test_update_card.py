"""The firmware panel on a device card, with a real backend (managed broker), signed releases
and the simulated controller running the unchanged firmware: it says an update is available,
asks before installing, shows progress, and says how it ended (updated, or rolled back and
why)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from pooldesk_firmware.sim.runner import SimulatedController
from tests.support import ota
from tests.support.waiting import wait_until

pytestmark = pytest.mark.timeout(240)


async def test_the_card_offers_installs_and_reports_updates(make_app, qtbot, tmp_path) -> None:
    key_file, pub = ota.keypair(tmp_path)
    good = ota.build(tmp_path, key_file, "0.5.0")
    broken = ota.build(
        tmp_path, key_file, "0.6.0", source=ota.source_copy(tmp_path, ota.crash_at_start)
    )
    backend = ota.Backend(tmp_path / "backend", pub)
    await backend.process.start()
    sim = None
    try:
        assert backend.cli("firmware", "add", str(good)).returncode == 0
        device_id = "ESP-A1B2C3"
        owner = await backend.owner(device_id)
        binding = await backend.bind(owner, device_id)
        sim = SimulatedController(tmp_path / "flash", binding=binding, ota_key=pub)
        await sim.start()
        app = make_app(backend.process.url, command_timeout=8.0)
        await app.start()
        await app.session.sign_in(owner.username, owner.password)
        key = device_id.lower()
        view = app.window.dashboard_view
        await wait_until(lambda: key in view.cards, what="card")
        card = view.cards[key]
        await wait_until(lambda: "Online" in card.status.text(), within=15, what="online")
        updates = app.dashboard.updates
        updates.refresh()
        await wait_until(
            lambda: key in updates.panels and updates.panels[key].isVisible(), what="panel"
        )
        panel = updates.panels[key]
        assert "Firmware 0.5.0 is available" in panel.text.text()
        assert panel.install.isVisible()
        assert not panel.progress.isVisible()

        # asks first: cancelling changes nothing
        qtbot.mouseClick(panel.install, Qt.MouseButton.LeftButton)
        assert updates.dialog is not None
        assert "Install firmware 0.5.0" in (updates.dialog.findChild(type(panel.text)).text())
        qtbot.mouseClick(updates.dialog.cancel_button, Qt.MouseButton.LeftButton)
        assert (await owner.device(device_id))["firmware"]["update"] is None

        qtbot.mouseClick(panel.install, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(updates.dialog.confirm_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: panel.progress.isVisible(), what="progress bar")
        assert not panel.install.isVisible()
        await wait_until(lambda: "Updated to 0.5.0" in panel.text.text(), within=60, what="updated")
        assert not panel.progress.isVisible()
        assert sim.controller.fw_version == "0.5.0"

        # a broken release: offered, installed, rolled back by the controller, and said why
        assert backend.cli("firmware", "add", str(broken)).returncode == 0
        updates.refresh()
        await wait_until(
            lambda: "Firmware 0.6.0 is available" in panel.text.text(), what="0.6.0 offered"
        )
        qtbot.mouseClick(panel.install, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(updates.dialog.confirm_button, Qt.MouseButton.LeftButton)
        await wait_until(
            lambda: "did not work on the controller" in panel.text.text(),
            within=60,
            what="rolled back",
        )
        assert "did not start" in panel.text.text()
        assert not panel.install.isVisible()  # a release that failed here is not offered again
        assert sim.controller.fw_version == "0.5.0"
    finally:
        if sim is not None:
            await sim.stop()
        backend.process.stop()
