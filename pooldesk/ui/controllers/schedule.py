"""Schedule editor: shows the retained schedule, sends `schedule/set`, waits for the echo."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimeZone, Signal
from PySide6.QtWidgets import QWidget

from pooldesk.core.commands import Command, CommandState, CommandTracker
from pooldesk.core.devices import Device
from pooldesk.core.failures import Code, Failure, failure
from pooldesk.ui import format as fmt
from pooldesk.ui.views.schedule_view import ScheduleView


def schedule_problem(windows: list[dict]) -> Failure | None:
    for window in windows:
        if not window["days"]:
            return failure(Code.SCHEDULE_NO_DAYS)
        if window["start"] == window["end"]:
            return failure(Code.SCHEDULE_EMPTY_WINDOW)
    return None


class ScheduleController(QObject):
    closed = Signal()

    def __init__(
        self,
        device: Device,
        *,
        commands: Callable[[], CommandTracker | None],
        read_only_tip: str | None,
        window: QWidget,
    ) -> None:
        """`commands` gives the tracker while the broker link is up (None before),
        `read_only_tip` says why the user may only look (None: they may edit)."""
        super().__init__(window)
        self.commands = commands
        self.key = device.key
        self._subscribed: CommandTracker | None = None
        self.timezone = bytes(QTimeZone.systemTimeZoneId().data()).decode() or "UTC"
        if device.schedule and device.schedule.get("tz"):
            self.timezone = str(device.schedule["tz"])
        self.view = ScheduleView(
            self.tr("Schedule of {name}").format(name=device.name),
            self.timezone,
            window,
        )
        self.command: Command | None = None
        if device.schedule:
            self.view.set_windows(list(device.schedule.get("windows") or []))
        else:
            self.view.status.show_info(self.tr("The controller has not reported a schedule yet."))
        if read_only_tip is not None:
            self.view.set_read_only(read_only_tip)
        self.view.save_requested.connect(self.save)
        self.view.closed.connect(self._closed)
        self._tracker()
        self.view.show()

    def _tracker(self) -> CommandTracker | None:
        """The command tracker, followed once it exists."""
        tracker = self.commands()
        if tracker is not None and tracker is not self._subscribed:
            tracker.subscribe(self._command_changed)
            self._subscribed = tracker
        return tracker

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
        tracker = self._tracker()
        if tracker is None:
            return
        self.command = tracker.set_schedule(self.key, windows, self.timezone)
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
