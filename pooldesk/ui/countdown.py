"""A wait that counts down on screen ("Try again in 12 s", "retrying in 3 s")."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QTimer

from pooldesk.core.backend_client import ApiError
from pooldesk.ui import format as fmt
from pooldesk.ui.views.common import MessageLabel


class Countdown(QObject):
    """Calls `show(seconds_left)` whenever the whole number of seconds left changes, then
    `done()` at zero. Starting again replaces the running countdown."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._tick)
        self._deadline = 0.0
        self._last: int | None = None
        self._show: Callable[[int], None] | None = None
        self._done: Callable[[], None] | None = None

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def start(
        self,
        seconds: float,
        show: Callable[[int], None],
        done: Callable[[], None] | None = None,
    ) -> None:
        self._deadline = time.monotonic() + seconds
        self._show, self._done, self._last = show, done, None
        self._timer.start()
        self._tick()

    def stop(self) -> None:
        self._timer.stop()
        self._show = self._done = None

    def _tick(self) -> None:
        left = max(0, math.ceil(self._deadline - time.monotonic()))
        if left > 0:
            if left != self._last and self._show is not None:
                self._last = left
                self._show(left)
            return
        done = self._done
        self.stop()
        if done is not None:
            done()


def tr(text: str) -> str:
    return QCoreApplication.translate("countdown", text)


def show_refusal(label: MessageLabel, exc: ApiError) -> None:
    """Show a server refusal on `label`; when the server said how long to wait, the wait
    counts down in the message and ends with "You can try again now."."""
    countdown = _countdowns.get(id(label))
    if countdown is None:
        countdown = _countdowns[id(label)] = Countdown(label)
        label.destroyed.connect(lambda *_: _countdowns.pop(id(label), None))
    countdown.stop()
    text = fmt.core_message(exc.failure)
    if not exc.retry_after:
        label.show_error(text)
        return
    shown: list[str] = []

    def show(left: int) -> None:
        if shown and label.text() != shown[-1]:
            countdown.stop()  # the message was replaced or cleared meanwhile
            return
        again = tr("Try again in {s} s.").format(s=left)
        shown.append(f"{text} {again}")
        label.show_error(shown[-1])

    def done() -> None:
        if shown and label.text() == shown[-1]:
            label.show_info(tr("You can try again now."))

    countdown.start(exc.retry_after, show, done)


_countdowns: dict[int, Countdown] = {}
