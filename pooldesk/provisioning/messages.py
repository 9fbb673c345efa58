"""Plain data exchanged with a controller during provisioning."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

STATES = ("idle", "connecting", "wifi_connected", "mqtt_connected", "failed")
FAILURE_REASONS = ("wifi_auth", "wifi_not_found", "no_ip", "broker_unreachable", "broker_auth")

#: What an installer should do after each failure reason (for the wizard's wording).
FAILURE_ADVICE = {
    "wifi_auth": "The Wi-Fi password is wrong. Enter it again.",
    "wifi_not_found": "The controller cannot hear that network. Move closer or rescan.",
    "no_ip": "The network gave the controller no address. Check the router's DHCP, then retry.",
    "broker_unreachable": "The controller cannot reach the server. Check the internet "
    "connection of that network, then retry.",
    "broker_auth": "The server refused the controller's login. Issue fresh credentials and retry.",
}


@dataclass(frozen=True)
class DeviceInfo:
    device_id: str
    firmware_version: str
    bound: bool
    protocol_versions: tuple[int, ...]
    capabilities: tuple[str, ...]
    max_message: int

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> DeviceInfo:
        return cls(
            device_id=str(obj["device_id"]),
            firmware_version=str(obj.get("fw", "")),
            bound=obj.get("state") == "bound",
            protocol_versions=tuple(int(v) for v in obj.get("proto", [])),
            capabilities=tuple(str(c) for c in obj.get("caps", [])),
            max_message=int(obj.get("max_msg", 8192)),
        )


@dataclass(frozen=True)
class WifiNetwork:
    ssid: str
    rssi: int
    security: str

    @property
    def is_open(self) -> bool:
        return self.security == "open"


@dataclass(frozen=True)
class Binding:
    """What a controller needs to go online for its owner (contract keys)."""

    ssid: str
    password: str
    broker_url: str
    mqtt_user: str
    mqtt_password: str
    client_id: str
    topic_prefix: str
    username: str
    ca_cert: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def __repr__(self) -> str:  # secrets stay out of logs
        return (
            f"Binding(ssid={self.ssid!r}, broker_url={self.broker_url!r}, "
            f"mqtt_user={self.mqtt_user!r}, client_id={self.client_id!r}, "
            f"topic_prefix={self.topic_prefix!r}, username={self.username!r})"
        )


@dataclass(frozen=True)
class StatusEvent:
    state: str
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.state == "failed"

    @property
    def reason(self) -> str | None:
        return self.detail.get("reason") if self.failed else None

    @property
    def ip(self) -> str | None:
        return self.detail.get("ip")

    @property
    def advice(self) -> str | None:
        """What to do next, for a failure."""
        return FAILURE_ADVICE.get(self.reason or "")
