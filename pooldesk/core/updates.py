"""Firmware updates as the app sees them (Qt-free): what a device runs, whether a newer
release is available, and how far an update got (docs/updates.md). The backend does the work;
this reads `firmware` from GET /api/devices and starts updates."""

from __future__ import annotations

from dataclasses import dataclass

from pooldesk.core import api_types as api
from pooldesk.core.backend_client import BackendClient
from pooldesk.core.server_refusals import DEVICE

FINAL = ("confirmed", "rolled_back", "failed")
# state -> (share of the progress bar where the step starts, words for the owner)
STEPS = {
    "requested": (0, "Waiting for the controller"),
    "offered": (2, "Offered to the controller"),
    "downloading": (5, "Downloading"),
    "verifying": (85, "Checking the signature and files"),
    "installed": (90, "Installed; the controller restarts"),
    "confirmed": (100, "Updated"),
    "rolled_back": (100, "Rolled back"),
    "failed": (100, "Not updated"),
}


@dataclass(frozen=True)
class UpdateInfo:
    id: str
    version: str
    state: str
    progress: int | None
    reason: str | None

    @property
    def final(self) -> bool:
        return self.state in FINAL

    @property
    def percent(self) -> int:
        """0-100 for a progress bar: the download's own share between 5 and 85."""
        start, _ = STEPS.get(self.state, (0, ""))
        if self.state == "downloading" and self.progress is not None:
            return start + min(max(self.progress, 0), 100) * 80 // 100
        return start

    @property
    def text(self) -> str:
        """One line for the owner: what is happening, or what happened and why."""
        words = STEPS.get(self.state, (0, self.state))[1]
        if self.state == "confirmed":
            return f"Updated to {self.version}: the controller is back online with it."
        if self.state == "rolled_back":
            why = f": {self.reason}" if self.reason else ""
            return (
                f"Version {self.version} did not work on the controller, so it went back to "
                f"the version before by itself{why}."
            )
        if self.state == "failed":
            why = self.reason or "no reason given"
            return f"Version {self.version} was not installed ({why}). Nothing changed."
        if self.state == "downloading" and self.progress is not None:
            return f"{words} {self.version}: {self.progress}%"
        return f"{words} ({self.version})"


@dataclass(frozen=True)
class FirmwareInfo:
    running: str | None
    available: str | None
    update: UpdateInfo | None

    @property
    def busy(self) -> bool:
        return self.update is not None and not self.update.final


def parse_update(update: api.FirmwareUpdate) -> UpdateInfo:
    return UpdateInfo(
        id=update.id,
        version=update.version,
        state=update.state,
        progress=update.progress,
        reason=update.reason,
    )


def parse_firmware(firmware: api.Firmware) -> FirmwareInfo:
    return FirmwareInfo(
        running=firmware.running,
        available=firmware.available,
        update=parse_update(firmware.update) if firmware.update is not None else None,
    )


class Updates:
    """Firmware calls on the app's signed-in backend client."""

    def __init__(self, client: BackendClient) -> None:
        self.client = client

    async def every_device(self) -> dict[str, FirmwareInfo]:
        """Device id as the API spells it -> its firmware, for every device of the account."""
        data = await self.client._authed(api.Devices, "GET", "/api/devices")
        return {device.device_id: parse_firmware(device.firmware) for device in data.devices}

    async def firmware(self, device_id: str) -> FirmwareInfo:
        found = await self.every_device()
        return found.get(device_id, FirmwareInfo(None, None, None))

    async def start(self, device_id: str, version: str | None = None) -> UpdateInfo:
        body = {} if version is None else {"version": version}
        data = await self.client._authed(
            api.UpdateStarted,
            "POST",
            f"/api/devices/{device_id}/firmware-update",
            about={DEVICE: device_id},
            json=body,
        )
        return parse_update(data.update)
