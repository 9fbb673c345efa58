"""Wizard tests: simulated controllers on Bumble's virtual radio, a real backend (with its managed
Mosquitto), and a fresh account per test."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from pooldesk.ble import central as central_module
from pooldesk.ble.radio import ENV_VAR, get_virtual_link, use_radio
from pooldesk.core.backend_client import BackendClient
from pooldesk_firmware.sim.device import FakeNetwork, default_networks
from pooldesk_firmware.sim.runner import SimulatedController
from tests.app.helpers import unique_user
from tests.support.backend import BackendProcess


@pytest.fixture
async def virtual_radio(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """POOLDESK_BLE=virtual for the test; the app's shared Bumble central is closed after."""
    monkeypatch.setenv(ENV_VAR, "virtual")
    use_radio(None)
    yield
    await central_module.close_shared_central()


@dataclass
class Account:
    username: str
    password: str
    client: BackendClient  # signed in


@pytest.fixture
async def account(backend: BackendProcess) -> AsyncIterator[Account]:
    user = unique_user()
    client = BackendClient(backend.url)
    await client.register(user["username"], user["email"], user["password"], user["device_id"])
    await client.login(user["username"], user["password"])
    try:
        yield Account(user["username"], user["password"], client)
    finally:
        await client.aclose()


def random_mac() -> str:
    """A MAC no other test uses: the backend is shared, and a device id can be claimed once."""
    return "24:0A:C4:" + ":".join(f"{b:02X}" for b in secrets.token_bytes(3))


SimFactory = Callable[..., "SimulatedController"]


@pytest.fixture
async def controllers(tmp_path: Path, virtual_radio: None) -> AsyncIterator[Callable[..., object]]:
    """`await controllers(n, networks=..., binding=...)` -> n simulated controllers, unbound by
    default, advertising on the virtual radio; all powered off after the test."""
    stack = AsyncExitStack()
    count = 0

    async def start(
        n: int = 1,
        *,
        networks: list[FakeNetwork] | None = None,
        binding: dict | None = None,
    ) -> list[SimulatedController]:
        nonlocal count
        sims = []
        for _ in range(n):
            count += 1
            sim = SimulatedController(
                tmp_path / f"flash{count}",
                mac=random_mac(),
                ble=get_virtual_link(),
                networks=networks if networks is not None else default_networks(),
                binding=binding,
            )
            sims.append(await stack.enter_async_context(sim))
        return sims

    async with stack:
        yield start


async def device_ids_on(client: BackendClient) -> set[str]:
    return {d.device_id for d in await client.devices()}
