"""The app's asyncio loop: qasync's QEventLoop, made safe for Qt event processing outside it.

qasync runs every asyncio callback from a Qt timer event. Qt also processes events outside
`run_forever` (qasync's own last `processEvents()` after `run_until_complete`, pytest-qt between
test phases); a task step that ran then found no running loop and failed (`asyncio.sleep`,
httpx/anyio need one). This loop marks itself running for the length of such a callback.
"""

from __future__ import annotations

import asyncio

import qasync
from PySide6.QtWidgets import QApplication


def application(argv: list[str]) -> QApplication:
    """The process's QApplication: the one already running (tests, the demo) or a new one."""
    app = QApplication.instance()
    if app is None:
        return QApplication(argv)
    assert isinstance(app, QApplication), "windows need a QApplication, not a QCoreApplication"
    return app


class _Timer(qasync._SimpleTimer):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._loop = loop

    def timerEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if asyncio.events._get_running_loop() is not None or self._loop.is_closed():
            super().timerEvent(event)
            return
        asyncio.events._set_running_loop(self._loop)
        try:
            super().timerEvent(event)
        finally:
            asyncio.events._set_running_loop(None)


class AppEventLoop(qasync.QEventLoop):
    _timer: _Timer  # qasync's own timer until __init__ puts this one in its place

    def __init__(self, app: QApplication | None = None) -> None:
        super().__init__(app or QApplication.instance())
        self._timer.stop()
        self._timer = _Timer(self)
