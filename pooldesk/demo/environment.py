"""Everything the demo runs, set up in order and torn down in reverse.

    async with DemoEnvironment() as env:
        env.backend_url            # http://127.0.0.1:<port>, SQLite + managed Mosquitto
        env.controllers            # two simulated, unprovisioned controllers (virtual radio)
        env.wifi_ssid, env.wifi_password

No factory manifest is imported: the app's registration form has no claim-code field, so a
listed device could not be the account's first one. The claim code is still proven to the
controller itself over Bluetooth. The app side of this process is pointed at the same virtual
radio (`POOLDESK_BLE=virtual`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pooldesk.demo.processes import (
    BackendProcess,
    DemoError,
    backend_environment,
)
from pooldesk.provisioning import claimcode

log = logging.getLogger(__name__)

DEFAULT_CONTROLLERS = 2
DEMO_WIFI_SSID = "PoolNet"  # the simulator's default networks (pooldesk_firmware/sim/device.py)
DEMO_WIFI_PASSWORD = "poolpass123"  # noqa: S105 - a simulated network's published password


@dataclass(frozen=True)
class DemoController:
    """One simulated controller as its label shows it, and the simulator behind it."""

    device_id: str
    claim_code: str
    sim: Any  # pooldesk_firmware.sim.runner.SimulatedController

    @property
    def label_code(self) -> str:
        return claimcode.grouped(self.claim_code)


class DemoEnvironment:
    def __init__(
        self,
        *,
        controllers: int = DEFAULT_CONTROLLERS,
        keep_data: bool = False,
        parent_dir: Path | None = None,
    ) -> None:
        self.controller_count = controllers
        self.keep_data = keep_data
        self.parent_dir = parent_dir
        self.data_dir = Path()
        self.backend: BackendProcess | None = None
        self.controllers: list[DemoController] = []
        self.wifi_ssid = DEMO_WIFI_SSID
        self.wifi_password = DEMO_WIFI_PASSWORD
        self.leftovers: list[int] = []
        self._previous_ble: str | None = None
        self._radio_set = False
        self.releases: Any = None  # pooldesk.demo.releases.DemoReleases

    @property
    def backend_url(self) -> str:
        assert self.backend is not None
        return self.backend.url

    async def __aenter__(self) -> DemoEnvironment:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        folder = tempfile.mkdtemp(prefix="pooldesk-demo-", dir=self.parent_dir)  # mode 0700
        self.data_dir = Path(folder).resolve()  # noqa: ASYNC240 - one quick call at start-up
        backend_dir = self.data_dir / "backend"
        backend_dir.mkdir()
        codes = [claimcode.generate() for _ in range(self.controller_count)]
        env = backend_environment(backend_dir, secrets.token_hex(32))
        self.releases = await asyncio.to_thread(self._releases)
        env["POOLDESK_OTA_PUBLIC_KEY"] = self.releases.public_key
        self.backend = BackendProcess(backend_dir, env)
        await self.backend.start()
        from pooldesk.demo.releases import add_releases

        await asyncio.to_thread(add_releases, backend_dir, env, self.releases)
        self._use_virtual_radio()
        await self._start_controllers(codes)

    def _releases(self) -> Any:
        """A signing key for this run and the two releases the story installs."""
        from pooldesk.demo.releases import prepare_releases
        from pooldesk_firmware.sim.loader import FirmwareImage

        # the simulated controllers' version (pooldesk_firmware/device/fw_ids.py)
        fw_ids = FirmwareImage().module("fw_ids")

        return prepare_releases(self.data_dir / "releases", fw_ids.FW_VERSION)

    def _use_virtual_radio(self) -> None:
        from pooldesk.ble.radio import ENV_VAR, Radio, use_radio

        self._previous_ble = os.environ.get(ENV_VAR)
        os.environ[ENV_VAR] = "virtual"  # for anything that reads the variable
        use_radio(Radio("virtual"))  # and over any radio chosen in the app's settings
        self._radio_set = True

    async def _start_controllers(self, codes: list[str]) -> None:
        from pooldesk.ble.radio import get_virtual_link
        from pooldesk_firmware.sim.runner import SimulatedController

        for index, code in enumerate(codes):
            sim = SimulatedController(
                self.data_dir / "controllers" / f"unit-{index + 1}",
                index=index,
                claim_code=code,
                ble=get_virtual_link(),  # the radio the app's Bumble central uses
                ota_key=self.releases.public_key if self.releases else None,
            )
            await sim.start()
            self.controllers.append(DemoController(sim.device_id, code, sim))

    async def stop(self) -> None:
        """Stop controllers, the app's radio, the backend and its broker; remove the data."""
        for controller in reversed(self.controllers):
            try:
                await controller.sim.stop()
            except Exception:  # one stuck simulator must not keep the backend running
                log.exception("stopping %s failed", controller.device_id)
        self.controllers = []
        from pooldesk.ble.central import close_shared_central

        with contextlib.suppress(Exception):
            await close_shared_central()
        if self.backend is not None:
            self.leftovers = self.backend.stop()
            self.backend = None
        self._restore_radio()
        if self.leftovers:
            raise DemoError(
                "these processes of the demo did not stop: "
                + ", ".join(str(pid) for pid in self.leftovers)
            )
        if not self.keep_data and self.data_dir != Path() and self.data_dir.exists():
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def _restore_radio(self) -> None:
        from pooldesk.ble.radio import ENV_VAR, use_radio

        if not self._radio_set:
            return
        self._radio_set = False
        use_radio(None)
        if self._previous_ble is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = self._previous_ble
