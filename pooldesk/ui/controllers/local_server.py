"""'Run the server on this computer' (first run) and 'Stop and remove' (Account page).

Logic in `core.local_server`; here the dialog, the wording and the app's settings. With a
systemd user manager the server is a user service that outlives the window; without one the
app runs it as its child while it is open (and says so).
"""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from pooldesk.core import local_server as core
from pooldesk.ui.tasks import TaskGroup
from pooldesk.ui.views.local_server_view import LocalServerView

log = logging.getLogger(__name__)
HOST_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[?[0-9A-Fa-f:]+\]?")


class LocalServerController(QObject):
    ready = Signal(str, str)  # the server's URL once it answers, how it runs ("systemd"/"app")
    removed = Signal()

    def __init__(
        self,
        parent: QWidget,
        *,
        server_factory: Callable[[str], core.LocalServer] = core.LocalServer.default,
        start_within: float = 60.0,
    ) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.server_factory = server_factory
        self.start_within = start_within
        self.tasks = TaskGroup()
        self.view: LocalServerView | None = None
        self.child: subprocess.Popen | None = None

    def open(self) -> None:
        if self.view is None:
            self.view = LocalServerView(self.parent_widget)
            self.view.lan_host.setText(core.lan_address())
            self.view.start.clicked.connect(lambda: self.tasks.spawn(self._start()))
            self.view.finished.connect(self._closed)
        self.view.show()
        self.view.raise_()

    def _closed(self, _result: int) -> None:
        if self.view is not None:
            self.view.deleteLater()
            self.view = None

    async def _start(self) -> None:
        view = self.view
        assert view is not None
        host = view.lan_host.text().strip()
        if not HOST_RE.fullmatch(host):
            view.message.show_error(
                self.tr("Enter this computer's address on your home network, like 192.168.1.20.")
            )
            view.lan_host.setFocus()
            return
        server = self.server_factory(host)
        view.start.setEnabled(False)
        view.busy.show()
        view.message.show_info(self.tr("Starting the server…"))
        try:
            how = await self._launch(server)
        except core.ServiceError as exc:
            log.warning("local server: %s", exc)
            view.message.show_error(
                self.tr("The server could not be set up as a service: {reason}").format(
                    reason=str(exc)
                )
            )
            return
        finally:
            view.busy.hide()
            view.start.setEnabled(True)
        if not await core.wait_healthy(server.url, self.start_within):
            await self.remove(server)
            view.message.show_error(
                self.tr("The server did not start. Its log is in {path}.").format(
                    path=server.data_dir / "serve.log"
                )
            )
            return
        view.accept()
        self.ready.emit(server.url, how)

    async def _launch(self, server: core.LocalServer) -> str:
        if await asyncio.to_thread(core.systemd_available):
            await asyncio.to_thread(core.install, server)
            return "systemd"
        self.child = core.start_child(server)
        return "app"

    async def remove(self, server: core.LocalServer | None = None) -> None:
        """Stop the server (service or child) and delete its service files; the data stays."""
        server = server or self.server_factory("")
        await self.stop_child()
        await asyncio.to_thread(core.remove, server)
        self.removed.emit()

    async def restart_child(self) -> None:
        """The app runs the server itself (no systemd): start it again with the app."""
        server = self.server_factory("")
        if self.child is None and server.env_path.is_file():
            env = core.read_env(server.env_path)
            server = self.server_factory(env.get("POOLDESK_MQTT_LAN_HOST", ""))
            self.child = core.start_child(server)
            await core.wait_healthy(server.url, self.start_within)

    async def stop_child(self) -> None:
        child, self.child = self.child, None
        if child is not None and child.poll() is None:
            child.terminate()
            try:
                await asyncio.to_thread(child.wait, 30)
            except subprocess.TimeoutExpired:
                child.kill()
