"""Schedule editor: shows the retained schedule, sends `schedule/set`, waits for the echo."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimeZone, Signal

from pooldesk.core.commands import Command, CommandState
from pooldesk.ui import format as fmt
from pooldesk.ui.views.schedule_view import ScheduleView

if TYPE_CHECKING:
    from pooldesk.ui.controllers.dashboard import DashboardController


def schedule_problem(windows: list[dict]) -> str | None:
    for window in windows:
        if not window["days"]:
            return "Every window needs at least one day."
        if window["start"] == window["end"]:
            return "A window's start and end must differ."
    return None


class ScheduleController(QObject):
    closed = Signal()

    def __init__(self, dashboard: DashboardController, key: str) -> None:
        super().__init__(dashboard)
        self.dashboard = dashboard
        self.key = key
        device = dashboard.store.devices[key]
        self.timezone = bytes(QTimeZone.systemTimeZoneId().data()).decode() or "UTC"
        if device.schedule and device.schedule.get("tz"):
            self.timezone = str(device.schedule["tz"])
        self.view = ScheduleView(
            self.tr("Schedule of {name}").format(name=device.name),
            self.timezone,
            dashboard.view.window(),
        )
        self.command: Command | None = None
        if device.schedule:
            self.view.set_windows(list(device.schedule.get("windows") or []))
        else:
            self.view.status.show_info(self.tr("The controller has not reported a schedule yet."))
        if not device.can_control:
            self.view.set_read_only(dashboard.viewer_tip(device))
        self.view.save_requested.connect(self.save)
        self.view.closed.connect(self._closed)
        if dashboard.commands:
            dashboard.commands.subscribe(self._command_changed)
        self.view.show()

    def raise_(self) -> None:
        self.view.raise_()
        self.view.activateWindow()

    def close(self) -> None:
        self.view.close()

    def _closed(self) -> None:
        self.closed.emit()
        self.view.deleteLater()

    def save(self, windows: list[dict]) -> None:
        problem = schedule_problem(windows)
        if problem:
            self.view.status.show_error(fmt.core_message(problem))
            return
        if self.dashboard.commands is None:
            return
        self.command = self.dashboard.commands.set_schedule(self.key, windows, self.timezone)
        self._command_changed(self.command)

    def _command_changed(self, command: Command) -> None:
        if command is not self.command:
            return
        self.view.set_busy(command.state is CommandState.PENDING)
        if command.state is CommandState.PENDING:
            self.view.status.show_info(self.tr("Waiting for the controller…"))
        elif command.state is CommandState.CONFIRMED:
            self.view.status.show_info(self.tr("The controller runs this schedule now."))
        else:
            self.view.status.show_error(fmt.core_message(command.message))
