"""Firmware updates as the app sees them (Qt-free): what a device runs, whether a newer
release is available, and how far an update got (docs/updates.md). The backend does the work;
this reads `firmware` from GET /api/devices and starts updates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pooldesk.core.backend_client import BackendClient

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


def parse_update(data: Any) -> UpdateInfo | None:
    if not isinstance(data, dict) or not isinstance(data.get("state"), str):
        return None
    progress = data.get("progress")
    reason = data.get("reason")
    return UpdateInfo(
        id=str(data.get("id") or ""),
        version=str(data.get("version") or "?"),
        state=data["state"],
        progress=progress if isinstance(progress, int) else None,
        reason=reason if isinstance(reason, str) else None,
    )


def parse_firmware(device: dict[str, Any]) -> FirmwareInfo:
    fw = device.get("firmware")
    if not isinstance(fw, dict):
        fw = {}
    running, available = fw.get("running"), fw.get("available")
    return FirmwareInfo(
        running=running if isinstance(running, str) else None,
        available=available if isinstance(available, str) else None,
        update=parse_update(fw.get("update")),
    )


class Updates:
    """Firmware calls on the app's signed-in backend client."""

    def __init__(self, client: BackendClient) -> None:
        self.client = client

    async def firmware(self, device_id: str) -> FirmwareInfo:
        data = await self.client._authed("GET", "/api/devices")
        for device in data.get("devices", []):
            if isinstance(device, dict) and device.get("deviceId") == device_id:
                return parse_firmware(device)
        return FirmwareInfo(None, None, None)

    async def start(self, device_id: str, version: str | None = None) -> UpdateInfo:
        body = {} if version is None else {"version": version}
        data = await self.client._authed(
            "POST", f"/api/devices/{device_id}/firmware-update", json=body
        )
        info = parse_update(data.get("update"))
        assert info is not None
        return info
