"""The demo's second account: invited by the owner as a viewer, it watches the shared pool.

The invitation and its acceptance go over the backend's HTTP API (docs/sharing.md); the viewer's
live view is the dashboard's own core (MQTT link and device store) on the viewer's own login,
subscribed to the shared device's prefix, which the broker allows a viewer to read.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any, TypeVar

import httpx
import msgspec

from pooldesk.core import api_types as api
from pooldesk.core.devices import DeviceStore
from pooldesk.core.models import DeviceInfo, MqttCredentials
from pooldesk.core.mqtt_link import MqttLink

VIEWER_SUBSCRIPTIONS = ("status", "pump/state")  # under the shared device's prefix
A = TypeVar("A")


class ShareRefused(Exception):
    """The backend refused a sharing step; the message is the backend's own."""


class Viewer:
    def __init__(self, backend_url: str) -> None:
        tag = secrets.token_hex(3)
        self.username = f"viewer-{tag}"
        self._password = f"View-{secrets.token_urlsafe(9)}-7a"
        self._http = httpx.AsyncClient(base_url=backend_url, timeout=15.0)
        self._token = ""
        self.store = DeviceStore()
        self.link: MqttLink | None = None
        self.device: DeviceInfo | None = None

    async def _call(self, answer_type: type[A], method: str, path: str, token: str, **kw: Any) -> A:
        """One request; the typed answer (pooldesk.core.api_types), or the backend's refusal."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self._http.request(method, path, headers=headers, **kw)
        if response.status_code >= 400:
            try:
                refused = api.parse(api.ErrorAnswer, response.content)
            except (msgspec.ValidationError, msgspec.DecodeError):
                raise ShareRefused(f"{method} {path}: HTTP {response.status_code}") from None
            raise ShareRefused(refused.error.message)
        parsed: A = api.parse(answer_type, response.content)
        return parsed

    async def join(self, owner_token: str, device_id: str) -> str:
        """Register (no controller of its own), be invited as a viewer, accept."""
        account = {"username": self.username, "email": f"{self.username}@example.com"}
        await self._call(
            api.Registered,
            "POST",
            "/api/auth/register",
            "",
            json={**account, "password": self._password},
        )
        signed = await self._call(
            api.SignedIn,
            "POST",
            "/api/auth/login",
            "",
            json={"username": self.username, "password": self._password},
        )
        self._token = signed.token
        offer = {"username": self.username, "role": "viewer", "deviceId": device_id}
        share = await self._call(api.ShareAnswer, "POST", "/api/shares", owner_token, json=offer)
        await self._call(
            api.ShareAnswer, "POST", f"/api/shares/{share.share.id}/accept", self._token
        )
        listed = await self._call(api.Devices, "GET", "/api/devices", self._token)
        mine = [d for d in listed.devices if d.device_id == device_id]
        if not mine or mine[0].role != "viewer" or not isinstance(mine[0].owner, str):
            raise ShareRefused(f"{device_id} is not listed for {self.username} as a viewer")
        self.device = DeviceInfo.from_api(mine[0])
        self.store.load([self.device])
        return mine[0].owner

    async def _credentials(self) -> MqttCredentials:
        creds = MqttCredentials.from_api(
            await self._call(api.MqttCredentials, "GET", "/api/auth/mqtt-credentials", self._token)
        )
        assert self.device is not None
        owner_prefix, _, _ = self.device.topic_prefix.rpartition("/devices/")
        self.store.topic_prefix = owner_prefix  # the store reads the owner's device topics
        # Subscriptions are made under the device's own prefix (all a viewer may read).
        return MqttCredentials(
            user=creds.user,
            password=creds.password,
            client_id=creds.client_id,
            topic_prefix=self.device.topic_prefix,
            broker_url=creds.broker_url,
            ca_cert=creds.ca_cert,
        )

    def watch(self) -> None:
        self.link = MqttLink(self._credentials, VIEWER_SUBSCRIPTIONS, on_message=self.store.handle)
        self.link.start()

    async def sees_pump(self, key: str, on: bool, within: float) -> bool:
        """Wait until the viewer's store shows the pump `on`/off (as the dashboard would)."""
        deadline = asyncio.get_running_loop().time() + within
        while asyncio.get_running_loop().time() < deadline:
            device = self.store.devices.get(key)
            if device is not None and device.pump is not None and device.pump.on is on:
                return True
            await asyncio.sleep(0.05)
        return False

    async def close(self) -> None:
        if self.link is not None:
            await self.link.stop()
        await self._http.aclose()
