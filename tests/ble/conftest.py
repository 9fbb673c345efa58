"""Fixtures for Bluetooth over Bumble's virtual radio: simulated controllers and the central."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import pytest

from pooldesk.ble import central as central_module
from pooldesk.ble.radio import ENV_VAR, get_virtual_link, use_radio
from pooldesk_firmware.sim.blectx import PERIPHERAL, SimPeripheral, open_peripheral


@dataclass
class RunningPeripheral:
    peripheral: SimPeripheral
    task: asyncio.Task[Any]


class PeripheralFarm:
    """Starts simulated controllers the way the simulator does: radio in the context, then
    the app as a task that inherits it."""

    def __init__(self) -> None:
        self.running: list[RunningPeripheral] = []

    async def start(
        self, address: str, name: str, app: Callable[[], Coroutine[Any, Any, Any]]
    ) -> RunningPeripheral:
        peripheral = await open_peripheral(get_virtual_link(), address, name)
        context = contextvars.copy_context()
        context.run(PERIPHERAL.set, peripheral)
        task = asyncio.get_running_loop().create_task(app(), context=context)
        running = RunningPeripheral(peripheral, task)
        self.running.append(running)
        return running

    async def stop(self, running: RunningPeripheral) -> None:
        running.task.cancel()
        done, _ = await asyncio.wait({running.task}, timeout=5)
        stuck = "" if done else where(running.task)
        await running.peripheral.close()
        if stuck:
            raise AssertionError(f"the app ignored cancellation, stuck at:\n{stuck}")

    async def close(self) -> None:
        for running in self.running:
            await self.stop(running)
        self.running.clear()


def where(task: asyncio.Task[Any]) -> str:
    """The chain of awaits a task is suspended in (to explain a hang)."""
    lines = []
    awaiting: Any = task.get_coro()
    while awaiting is not None:
        frame = getattr(awaiting, "cr_frame", None)
        if frame is not None:
            lines.append(f"  {frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
        awaiting = getattr(awaiting, "cr_await", None)
    return "\n".join(lines)


@pytest.fixture
async def virtual_radio(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """POOLDESK_BLE=virtual for the test; the shared central is closed afterwards."""
    monkeypatch.setenv(ENV_VAR, "virtual")
    use_radio(None)
    yield
    await central_module.close_shared_central()


@pytest.fixture
async def farm(virtual_radio: None) -> AsyncIterator[PeripheralFarm]:
    farm = PeripheralFarm()
    yield farm
    await farm.close()
    await central_module.close_shared_central()
    # Nothing of either side may stay on the shared virtual link.
    assert get_virtual_link().controllers == set()
