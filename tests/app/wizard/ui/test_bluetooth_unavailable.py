"""When the computer's Bluetooth cannot be reached the wizard says so within seconds, with what
to do, and Rescan works once Bluetooth is back. The failures are real: bleak's system back end
talking to a D-Bus that is not there, or that never answers, and a Bumble transport that does
not exist."""

from __future__ import annotations

import socket
import time

from PySide6.QtCore import Qt

from pooldesk.ble.radio import Radio, use_radio
from pooldesk.core.bluetooth_problems import Cause
from pooldesk.core.failures import Code, failure
from pooldesk.core.provisioning_flow import ProvisioningFlow, Step
from pooldesk.ui import i18n
from tests.app.wizard.ui.test_wizard import signed_in_app
from tests.support.waiting import wait_until

LEFT = Qt.MouseButton.LeftButton


def listed(wizard) -> list[str]:
    devices = wizard.view.scan_page.devices
    return [devices.item(r).data(Qt.ItemDataRole.UserRole) for r in range(devices.count())]


async def test_no_bluetooth_service_is_said_at_once_and_rescan_works_after(
    make_app, backend, account, controllers, qtbot, monkeypatch, tmp_path
) -> None:
    [sim] = await controllers(1)
    app = await signed_in_app(make_app, backend, account)
    # The system's Bluetooth (bleak on BlueZ) on a computer without BlueZ / D-Bus.
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-system-bus")
    use_radio(Radio("os"))
    qtbot.mouseClick(app.window.dashboard_view.add_button, LEFT)
    wizard = app.dashboard.wizard
    message = wizard.view.message
    await wait_until(lambda: "Bluetooth service is not running" in message.text(), within=5)
    assert "systemctl start bluetooth" in message.text()
    assert "Rescan" in message.text()
    assert message.styleSheet() == "color: #b3261e;"
    page = wizard.view.scan_page
    assert page.rescan.isEnabled()
    assert not page.next.isEnabled()
    await wait_until(lambda: not wizard.tasks.busy, what="the step ended")

    use_radio(None)  # Bluetooth works again (here: the virtual radio of the simulators)
    qtbot.mouseClick(page.rescan, LEFT)
    await wait_until(lambda: sim.device_id in listed(wizard), what="found after Rescan")
    await wait_until(lambda: wizard.flow.step is Step.PICK, what="scan done")
    assert "Bluetooth" not in message.text()


async def test_a_bumble_dongle_that_is_not_there(
    make_app, backend, account, virtual_radio, qtbot, tmp_path
) -> None:
    app = await signed_in_app(make_app, backend, account)
    use_radio(Radio("transport", f"serial:{tmp_path}/ttyUSB9"))
    qtbot.mouseClick(app.window.dashboard_view.add_button, LEFT)
    wizard = app.dashboard.wizard
    await wait_until(lambda: "Bluetooth adapter" in wizard.view.message.text(), within=5)
    assert wizard.view.scan_page.rescan.isEnabled()


async def test_the_missing_adapter_is_said_in_spanish(
    make_app, backend, account, virtual_radio, qtbot, qapp, tmp_path
) -> None:
    """The wizard words the core's Bluetooth failure code in the user's language."""
    assert i18n.install_translator(qapp, "es") == "es"
    try:
        app = await signed_in_app(make_app, backend, account)
        use_radio(Radio("transport", f"serial:{tmp_path}/ttyUSB9"))
        qtbot.mouseClick(app.window.dashboard_view.add_button, LEFT)
        wizard = app.dashboard.wizard
        message = wizard.view.message
        await wait_until(lambda: "Bluetooth" in message.text(), within=5)
        assert message.text() == (
            "Este ordenador no tiene adaptador Bluetooth. Conecta un adaptador Bluetooth o usa "
            "un ordenador o teléfono con Bluetooth y pulsa Volver a buscar."
        )
        assert message.styleSheet() == "color: #b3261e;"
        await wait_until(lambda: not wizard.tasks.busy, what="the step ended")
    finally:
        use_radio(None)
        i18n.install_translator(qapp, "en")


async def test_a_bluetooth_service_that_never_answers_ends_the_scan(
    account, monkeypatch, tmp_path
) -> None:
    """A system bus that accepts the connection and then says nothing: bleak would wait forever;
    the scan ends after its duration plus `bluetooth_timeout` with a reason."""
    path = tmp_path / "silent-bus"
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.bind(str(path))
    silent.listen(4)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={path}")
    use_radio(Radio("os"))
    try:
        flow = ProvisioningFlow(account.client, account.username, bluetooth_timeout=1.0)
        started = time.monotonic()
        try:
            await flow.scan(0.5)
        except Exception as exc:  # noqa: BLE001 - the type is what is checked
            problem = exc
        else:
            raise AssertionError("the scan succeeded without Bluetooth")
        # 0.5 s + 1 s here; a busy machine may add a few seconds (bleak's first import and
        # D-Bus set-up included), a scan that waits on the silent bus for ever never ends.
        assert time.monotonic() - started < 6
        assert getattr(problem, "cause", None) is Cause.NOT_ANSWERING
        assert getattr(problem, "failure", None) == failure(Code.BLUETOOTH_NOT_ANSWERING)
        assert "Bluetooth did not answer" in str(problem)  # the log's words
        assert flow.step is Step.PICK  # ready for a rescan
    finally:
        use_radio(None)
        silent.close()
