"""A controller host for protocol tests: the contract's `host` with a table of Wi-Fi networks.

It stands in for the firmware's controller the way the simulator does: connecting succeeds only
with the right password, the broker accepts only its known logins, and every step is reported
through `provisioning.publish_status` exactly as the contract says. It holds no protocol logic.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Network:
    password: str
    rssi: int = -50
    security: str = "wpa2"


@dataclass
class TableHost:
    device_id: str = "ESP-A1B2C3"
    claim_code: str = "KQ4M7XTZ2PB6WRHD"
    fw_version: str = "0.1.0"
    networks: dict[str, Network] = field(default_factory=dict)
    broker_logins: dict[str, str] = field(default_factory=dict)
    broker_reachable: bool = True
    bound: bool = False
    binding: dict[str, Any] | None = None
    applied: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    identified: list[int] = field(default_factory=list)
    provisioning: Any = None
    step_delay: float = 0.0
    _task: asyncio.Task[None] | None = None

    async def wifi_scan(self) -> list[tuple[str, int, str]]:
        return [(ssid, n.rssi, n.security) for ssid, n in self.networks.items()]

    async def apply_binding(self, b: dict[str, Any]) -> None:
        self.binding = dict(b)
        self.bound = True
        self.applied.append(("binding", dict(b)))
        self._reconnect()

    def settings_snapshot(self) -> dict[str, Any] | None:
        return dict(self.binding) if self.binding is not None else None

    async def restore_settings(self, snapshot: dict[str, Any] | None) -> None:
        self.binding = dict(snapshot) if snapshot is not None else None
        self.bound = snapshot is not None
        self.applied.append(("restore", dict(snapshot or {})))
        if self.binding is None:
            if self._task is not None:
                self._task.cancel()
            # reported by the connection task, after the answer (as the firmware's link does)
            self._task = asyncio.get_running_loop().create_task(self._idle())
        else:
            self._reconnect()

    async def apply_wifi(self, ssid: str, password: str) -> None:
        assert self.binding is not None
        self.binding = {**self.binding, "ssid": ssid, "password": password}
        self.applied.append(("wifi", {"ssid": ssid, "password": password}))
        self._reconnect()

    def identify(self, seconds: int) -> None:
        self.identified.append(seconds)

    def _reconnect(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._task = asyncio.get_running_loop().create_task(self._connect(dict(self.binding or {})))

    def _publish(self, state: str, detail: dict[str, Any] | None = None) -> None:
        if self.provisioning is not None:
            self.provisioning.publish_status(state, detail or {})

    async def _idle(self) -> None:
        self._publish("idle", {})

    async def _connect(self, b: dict[str, Any]) -> None:
        self._publish("connecting", {})
        await asyncio.sleep(self.step_delay)
        network = self.networks.get(b["ssid"])
        if network is None:
            self._publish("failed", {"reason": "wifi_not_found"})
            return
        if network.password != b["password"]:
            self._publish("failed", {"reason": "wifi_auth"})
            return
        self._publish("wifi_connected", {"ip": "192.168.4.20"})
        await asyncio.sleep(self.step_delay)
        if not self.broker_reachable:
            self._publish("failed", {"reason": "broker_unreachable"})
        elif self.broker_logins.get(b["mqtt_user"]) != b["mqtt_password"]:
            self._publish("failed", {"reason": "broker_auth"})
        else:
            self._publish("mqtt_connected", {})

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
