"""What the client does when the link or the peer misbehaves: a forged device confirmation,
a silent controller, a dropped connection."""

from __future__ import annotations

import asyncio
import json

import pytest

from pooldesk.core.failures import Code, failure
from pooldesk.provisioning import (
    Binding,
    DeviceNotAuthentic,
    LinkError,
    ProvisioningClient,
    ProvisioningTimeout,
    SessionRequired,
    framing,
)
from tests.support.waiting import wait_until

from .memlink import MemoryLink
from .table_host import TableHost

CODE = "KQ4M7XTZ2PB6WRHD"


class ForgingLink(MemoryLink):
    """A man in the middle who replaces the device's key confirmation with its own guess."""

    async def raw_write(self, endpoint: str, data: bytes) -> None:
        async with self._lock:
            frames = await self.core.on_write(endpoint, bytes(data))
        if endpoint == "prov-session" and frames:
            reassembler = framing.Reassembler()
            done = None
            for _, frame in frames:
                done = reassembler.feed(frame) or done
            assert done is not None
            obj = json.loads(done[1][1:])
            if obj.get("op") == "confirm":
                obj["mac"] = "5a" * 32
                message = b"\x01" + json.dumps(obj).encode()
                frames = [(endpoint, f) for f in framing.split(message, done[0], self.mtu)]
        self._deliver(frames)


class SilentLink(MemoryLink):
    """A controller that takes writes and never answers."""

    async def raw_write(self, endpoint: str, data: bytes) -> None:
        return None


async def test_forged_device_confirmation_stops_the_client_before_any_secret():
    link = ForgingLink(TableHost(claim_code=CODE))
    client = ProvisioningClient(link, timeout=2)
    with pytest.raises(DeviceNotAuthentic) as err:
        await client.open_session(CODE)
    assert "Nothing was sent" in str(err.value)
    assert not client.session_open
    with pytest.raises(SessionRequired, match="claim code") as no_session:
        await client.send_wifi("PoolHouse", "secret-password")
    assert no_session.value.failure == failure(Code.SESSION_REQUIRED)
    first_frames = [f for _, f in link.written if f[2:4] == b"\x00\x00"]
    assert [f[4] for f in first_frames] == [1, 1]  # hello and confirm, both plaintext; no record


async def test_a_silent_controller_times_out_with_advice():
    client = ProvisioningClient(SilentLink(TableHost(claim_code=CODE)), timeout=0.2)
    with pytest.raises(ProvisioningTimeout, match="move closer") as silent:
        await client.identify()
    assert silent.value.failure == failure(Code.CONTROLLER_NO_ANSWER)


async def test_a_request_waiting_when_the_link_drops_fails_with_the_link_lost_code():
    client = ProvisioningClient(SilentLink(TableHost(claim_code=CODE)), timeout=30)
    waiting = asyncio.create_task(client.identify())
    await wait_until(lambda: bool(client._waiting), what="the request waiting")
    client.connection_lost()
    with pytest.raises(LinkError) as lost:
        await waiting
    assert lost.value.failure == failure(Code.BLUETOOTH_LINK_LOST)


async def test_a_dropped_link_raises_link_error_and_forgets_the_session():
    host = TableHost(claim_code=CODE)
    link = MemoryLink(host)
    client = ProvisioningClient(link, timeout=2)
    await client.open_session(CODE)
    link.disconnect()
    with pytest.raises(LinkError):
        await client.status()
    client.connection_lost()
    assert not client.session_open


async def test_peer_leaving_while_the_host_applies_a_binding_breaks_nothing():
    release, applying = asyncio.Event(), asyncio.Event()

    class SlowHost(TableHost):
        async def apply_binding(self, b):  # stores, then waits like a slow flash write
            applying.set()
            await release.wait()
            await super().apply_binding(b)

    host = SlowHost(claim_code=CODE)
    link = MemoryLink(host)
    client = ProvisioningClient(link, timeout=2)
    await client.open_session(CODE)
    request = asyncio.create_task(
        client.send_binding(
            Binding(
                "PoolHouse",
                "right-password",
                "mqtt://127.0.0.1:1883",
                "u",
                "p",
                "esp-a1b2c3",
                "users/alice/devices/esp-a1b2c3",
                "alice",
            )
        )
    )
    async with asyncio.timeout(5):
        await applying.wait()
    link.disconnect()  # the device forgets the session while the host is still busy
    release.set()
    await wait_until(lambda: host.bound, within=5, what="the host finished its job")
    client.connection_lost()
    with pytest.raises(LinkError):
        await request
    assert host.bound  # the host finished its job; the device side did not crash
    assert not link.core.established
    await host.aclose()
