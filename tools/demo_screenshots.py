"""Walk through `pooldesk demo` offscreen and save what a newcomer sees, step by step.

    .venv/bin/python tools/demo_screenshots.py [--out docs/screenshots/demo] [--language es]

Runs the real demo (backend, broker, simulated controllers on the virtual radio) and the real
app: signs in with the demo account, adds the first controller through the wizard, switches
its pump, and saves a PNG at each step. Everything is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QCoreApplication, QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402


async def until(predicate, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the demo did not get there in time")
        await asyncio.sleep(0.05)


def select(widget, data) -> None:
    for row in range(widget.count()):
        if widget.item(row).data(Qt.ItemDataRole.UserRole) == data:
            widget.setCurrentRow(row)
            return
    raise LookupError(data)


async def walk(out: Path) -> None:
    from pooldesk.core.provisioning_flow import Step
    from pooldesk.demo.gui import GuiDemo

    async def save(widget: QWidget, name: str) -> None:
        await asyncio.sleep(0.2)  # let Qt lay out and paint on the loop, never re-entrantly
        widget.grab().save(str(out / f"{name}.png"))
        print(out / f"{name}.png")

    demo = GuiDemo(out=lambda _line: None)
    running = asyncio.ensure_future(demo.run())
    try:
        await until(lambda: demo.app is not None and demo.app.window.isVisible())
        app, unit = demo.app, demo.env.controllers[0]
        assert app is not None
        window = app.window
        window.resize(960, 680)
        await until(lambda: window.page is window.sign_in_view)
        window.sign_in_view.password.setText(demo.account["password"])
        await save(window, "01-sign-in")
        window.sign_in_view.sign_in_button.click()
        await until(lambda: window.page is window.dashboard_view)
        window.dashboard_view.add_button.click()
        wizard = app.dashboard.wizard
        assert wizard is not None
        await until(lambda: wizard.flow.step is Step.PICK)
        select(wizard.view.scan_page.devices, unit.device_id)
        await save(wizard.view, "02-wizard-scan")
        wizard.view.scan_page.next.click()
        await until(lambda: wizard.view.page is wizard.view.claim_page)
        wizard.view.claim_page.claim.setText(unit.label_code)
        await save(wizard.view, "03-wizard-claim-code")
        wizard.view.claim_page.open.click()
        wifi = wizard.view.wifi_page
        await until(
            lambda: (
                wizard.flow.step is Step.WIFI and wizard.view.page is wifi and not wizard.tasks.busy
            )
        )
        select(wifi.networks, demo.env.wifi_ssid)
        wifi.password.setText(demo.env.wifi_password)
        await save(wizard.view, "04-wizard-wifi")
        wifi.connect_button.click()
        await until(lambda: wizard.view.page is wizard.view.done_page)
        await save(wizard.view, "05-wizard-online")
        wizard.view.done_page.finish.click()
        await until(lambda: app.dashboard.wizard is None)
        card = window.dashboard_view.cards[unit.device_id.lower()]
        await until(lambda: card.toggle.isEnabled())
        card.toggle.click()
        key = unit.device_id.lower()
        commands = app.dashboard.commands
        assert commands is not None
        await until(lambda: unit.sim.relay_on and commands.pending(key) is None)
        await save(window, "06-dashboard-pump-on")
        window.close()
        await running
    finally:
        if not running.done():
            running.cancel()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "demo")
    parser.add_argument("--language", default="en", choices=["en", "es"])
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    app = QApplication(sys.argv[:1])
    from pooldesk.ui.event_loop import AppEventLoop
    from pooldesk.ui.i18n import install_translator
    from pooldesk.ui.theme import apply_theme

    with tempfile.TemporaryDirectory() as settings_dir:
        QCoreApplication.setOrganizationName("PoolDeskScreenshots")
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir)
        apply_theme(app)
        install_translator(app, args.language)
        loop = AppEventLoop(app)
        asyncio.set_event_loop(loop)
        with loop:
            loop.run_until_complete(walk(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
