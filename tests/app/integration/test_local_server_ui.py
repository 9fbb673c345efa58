"""First run → "Run the server on this computer": the real backend starts as the service would
run it (here without a systemd user manager: as the app's child), the app uses it, the Account
page says what runs where, and "Stop and remove" stops it and deletes its files."""

from __future__ import annotations

import httpx
from PySide6.QtCore import Qt

from pooldesk.core.backend_client import BackendClient
from pooldesk.core.local_server import LocalServer, systemd_available
from tests.app.helpers import unique_user
from tests.support.ports import free_port
from tests.support.waiting import wait_until

LEFT = Qt.MouseButton.LeftButton


async def test_run_the_server_here_use_it_then_stop_and_remove(make_app, tmp_path, qtbot) -> None:
    port, lan_port = free_port(), free_port()

    def server(host: str) -> LocalServer:
        return LocalServer(config_dir=tmp_path / "config", data_dir=tmp_path / "data", port=port,
                           lan_host=host, lan_port=lan_port, lan_bind="127.0.0.1")  # fmt: skip

    app = make_app()
    app.local_server.server_factory = server
    await app.start()
    window = app.window
    assert window.page is window.server_view
    qtbot.mouseClick(window.server_view.local_button, LEFT)
    view = app.local_server.view
    assert view is not None
    assert view.isVisible()
    assert "schedules, timers and freeze protection" in view.offline_note.text()

    view.lan_host.setText("not an address!")
    qtbot.mouseClick(view.start, LEFT)
    await wait_until(lambda: "home network" in view.message.text(), what="address refused")

    view.lan_host.setText("127.0.0.1")
    qtbot.mouseClick(view.start, LEFT)
    url = f"http://127.0.0.1:{port}"
    await wait_until(lambda: app.settings.server_url == url, within=90, what="server started")
    assert not systemd_available()  # this machine: the app runs it (a user unit elsewhere)
    assert app.settings.local_server == "app"
    assert app.local_server.child is not None
    assert app.settings_store.load().local_server == "app"
    await wait_until(lambda: window.page is window.sign_in_view, what="sign-in on it")
    await wait_until(lambda: "Create an account" in window.sign_in_view.notice.text())

    user = unique_user()  # the server really serves accounts
    client = BackendClient(url)
    await client.register(user["username"], user["email"], user["password"], user["device_id"])
    await client.aclose()

    account = window.account_view
    assert not account.local_server_box.isHidden()
    assert "while PoolDesk is open" in account.local_server_status.text()
    qtbot.mouseClick(account.remove_local_server_button, LEFT)
    dialog = app.local_server_dialog
    assert dialog.cancel_button.isDefault()  # destructive: Cancel is the default
    qtbot.mouseClick(dialog.confirm_button, LEFT)
    await wait_until(lambda: app.settings.local_server == "", within=40, what="removed")
    assert app.local_server.child is None
    assert account.local_server_box.isHidden()
    assert not server("").env_path.exists()
    assert not server("").unit_path.exists()
    assert "stopped and removed" in account.notice.text()
    async with httpx.AsyncClient(timeout=2) as http:
        try:
            await http.get(f"{url}/healthz")
        except httpx.ConnectError:
            pass
        else:
            raise AssertionError("the server still answers")
