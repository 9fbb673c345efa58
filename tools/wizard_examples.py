"""The provisioning wizard's pages for `tools/screenshots.py`, with no radio, server or broker.

The real `WizardController` words and fills every page; only its `ProvisioningFlow` is replaced
by `ExampleFlow`, which answers each step with example data and reports progress the way the
real flow does (`on_progress(Progress(...))`). The controller's step coroutines are awaited one
by one, so each page can be captured in a known state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

from bleak.backends.device import BLEDevice
from PySide6.QtWidgets import QWidget

from pooldesk.ble.scan import NearbyController
from pooldesk.core.provisioning_flow import Outcome, Progress, Step
from pooldesk.provisioning.messages import DeviceInfo, StatusEvent, WifiNetwork

Save = Callable[[QWidget, Path, str, tuple[int, int]], None]
SIZE = (600, 540)

CONTROLLERS = [
    NearbyController(
        "ESP-A1B2C3",
        "ESP-A1B2C3",
        -48,
        False,
        "00:00:00:00:00:01",
        BLEDevice("00:00:00:00:00:01", "ESP-A1B2C3", None),
    ),
    NearbyController(
        "ESP-0F1E2D",
        "Spa",
        -71,
        True,
        "00:00:00:00:00:02",
        BLEDevice("00:00:00:00:00:02", "ESP-0F1E2D", None),
    ),
]
NETWORKS = [
    WifiNetwork("PoolNet", -52, "wpa2"),
    WifiNetwork("Neighbours-5G", -78, "wpa3"),
    WifiNetwork("Garden guest", -81, "open"),
]
ADDRESS = "192.168.178.42"


class ExampleFlow:
    """Answers the wizard's calls like `ProvisioningFlow`, from the example data above."""

    def __init__(self, on_progress: Callable[[Progress], None]) -> None:
        self.on_progress = on_progress
        self.step = Step.IDLE
        self.device_id: str | None = None
        self.networks: list[WifiNetwork] = []
        self.outcome = Outcome(online=True, ip=ADDRESS)
        self.while_connecting: Callable[[], None] = lambda: None
        self.controller: NearbyController | None = None  # the picked one, as the real flow
        self.client = None  # no Bluetooth link in the examples

    def _set(self, step: Step, **details) -> None:
        self.step = step
        self.on_progress(Progress(step, **details))

    async def scan(self, duration: float, wanted: str | None = None) -> list[NearbyController]:
        for index, controller in enumerate(CONTROLLERS):
            self._set(Step.SCANNING, fraction=(index + 1) / len(CONTROLLERS), found=controller)
        self._set(Step.PICK)
        return list(CONTROLLERS)

    async def select(self, controller: NearbyController) -> DeviceInfo:
        self.device_id = controller.device_id
        self._set(Step.CLAIM)
        return DeviceInfo(controller.device_id, "0.4.0", bool(controller.bound), (1,), (), 512)

    async def scan_wifi(self) -> list[WifiNetwork]:
        self.networks = list(NETWORKS)
        self._set(Step.WIFI)
        return self.networks

    async def connect(self, ssid: str, password: str, name: str | None = None) -> Outcome:
        self._set(Step.REGISTERING)
        self._set(Step.SENDING)
        self._set(Step.CONNECTING, status=StatusEvent("connecting"))
        if self.outcome.online:
            self._set(Step.CONNECTING, status=StatusEvent("wifi_connected", {"ip": ADDRESS}))
            self.while_connecting()
            self._set(Step.CONNECTING, status=StatusEvent("mqtt_connected"))
            self._set(Step.WAITING_ONLINE)
            self._set(Step.ONLINE, outcome=self.outcome)
        else:
            self._set(Step.FAILED, outcome=self.outcome)
        return self.outcome


def wizard_screens(save: Save, out: Path) -> None:
    """Save 08-…13-: scan list, claim code, Wi-Fi, progress, online, a failure with advice."""
    from pooldesk.ui.wizard.controller import WizardController

    session = SimpleNamespace(client=None, user=SimpleNamespace(username="john"))
    wizard = WizardController(session)  # type: ignore[arg-type]  # only .client and .user read
    flow = ExampleFlow(wizard._progress)
    wizard.flow = flow  # type: ignore[assignment]
    view = wizard.view
    run = asyncio.run

    run(wizard._scan())
    view.scan_page.devices.setCurrentRow(0)
    save(view, out, "08-wizard-scan", SIZE)

    run(wizard._select(CONTROLLERS[0]))
    view.claim_page.claim.setText("KQ4M-7XTZ-2PB")  # checked as typed: one group short
    save(view, out, "09-wizard-claim-code", SIZE)

    run(wizard._scan_wifi())
    view.wifi_page.networks.setCurrentRow(0)
    view.wifi_page.password.setText("poolpass123")
    view.wifi_page.name.setText("Back yard pool")
    save(view, out, "10-wizard-wifi", SIZE)

    view.set_busy(True)
    flow.while_connecting = lambda: save(view, out, "11-wizard-progress", SIZE)
    run(wizard._connect("PoolNet", "poolpass123", "Back yard pool"))
    view.set_busy(False)
    save(view, out, "12-wizard-online", SIZE)

    flow.outcome = Outcome(online=False, reason="wifi_auth")
    run(wizard._connect("PoolNet", "poolpas123", "Back yard pool"))
    view.set_busy(False)
    save(view, out, "13-wizard-failed", SIZE)
    view.close_for_good()

    # Change Wi-Fi of an online controller: its Bluetooth is off until its button is pressed.
    wizard = WizardController(session, change_wifi_for="ESP-77AA01")  # type: ignore[arg-type]
    flow = ExampleFlow(wizard._progress)
    wizard.flow = flow  # type: ignore[assignment]
    run(wizard._scan())
    save(wizard.view, out, "16-wizard-change-wifi-button", SIZE)
    wizard.view.close_for_good()
