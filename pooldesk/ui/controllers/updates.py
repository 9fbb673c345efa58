"""Firmware updates on the dashboard: a panel on each device card, asking before it installs
and following the update until it ends (docs/updates.md). Polls the backend: every 2 s while an
update runs, else every 60 s and whenever the device list is reloaded."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer

from pooldesk.core.backend_client import ApiError
from pooldesk.core.updates import FirmwareInfo, Updates
from pooldesk.ui import format as fmt
from pooldesk.ui.views.common import ConfirmDialog
from pooldesk.ui.views.update_panel import UpdatePanel

log = logging.getLogger(__name__)

BUSY_POLL_MS = 2_000
IDLE_POLL_MS = 60_000


class UpdatesController(QObject):
    def __init__(self, dashboard) -> None:
        super().__init__(dashboard)
        self.dashboard = dashboard
        self.panels: dict[str, UpdatePanel] = {}
        self.firmware: dict[str, FirmwareInfo] = {}
        self.dialog: ConfirmDialog | None = None  # the open question, for tests
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh)
        self._asked = 0  # answers to refreshes older than the latest are dropped

    def refresh(self) -> None:
        self.dashboard.tasks.spawn(self._refresh())

    def stop(self) -> None:
        self._timer.stop()

    async def _refresh(self) -> None:
        session = self.dashboard.session
        if session is None or not session.client.signed_in:
            return
        self._asked += 1
        asked = self._asked
        try:
            every = await Updates(session.client).every_device()
        except ApiError as e:
            if asked == self._asked:
                log.info("firmware state not read: %s", e)
                self._timer.start(IDLE_POLL_MS)
            return
        if asked != self._asked:
            return  # a later refresh (after an install, say) was started: its answer is newer
        busy = False
        for device_id, fw in every.items():
            key = device_id.lower()
            self.firmware[key] = fw
            busy = busy or fw.busy
            panel = self._panel(key)
            if panel is not None:
                panel.show_firmware(fw)
                shared = self.dashboard.store.devices.get(key)
                if shared is not None and shared.shared:
                    panel.install.hide()  # only the owner starts firmware updates
        self._timer.start(BUSY_POLL_MS if busy else IDLE_POLL_MS)

    def _panel(self, key: str) -> UpdatePanel | None:
        card = self.dashboard.view.cards.get(key)
        if card is None:
            return None
        panel = self.panels.get(key)
        if panel is None or panel.parent() is not card:
            panel = UpdatePanel(key)
            layout = card.layout()
            layout.insertWidget(layout.count() - 1, panel)  # above the card's message line
            panel.install_requested.connect(self.ask_install)
            self.panels[key] = panel
        return panel

    def ask_install(self, key: str, version: str) -> None:
        device = self.dashboard.store.devices.get(key)
        name = device.name if device is not None else key.upper()
        dialog = ConfirmDialog(
            self.tr("Update the controller?"),
            self.tr(
                "Install firmware {v} on {n}? The controller checks the update's signature, "
                "installs it and restarts, which takes about a minute; the pump keeps its "
                "settings. If the new version does not work, the controller goes back to the "
                "one it has now by itself."
            ).format(v=version, n=name),
            self.tr("Install"),
            self.dashboard.view,
        )
        dialog.accepted.connect(lambda: self.dashboard.tasks.spawn(self.install(key, version)))
        self.dialog = dialog
        dialog.open()

    async def install(self, key: str, version: str) -> None:
        session = self.dashboard.session
        device_id = key.upper()
        try:
            await Updates(session.client).start(device_id, version)
        except ApiError as e:
            panel = self.panels.get(key)
            if panel is not None:
                panel.text.setText(fmt.core_message(e.failure))
            return
        await self._refresh()
