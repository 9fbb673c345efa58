"""The simulated device that the current asyncio task belongs to.

Several simulated controllers share one process, so the host stand-ins (`machine`, `network`,
`ntptime`, `onewire`, `ds18x20`, the ticks functions) find "their" hardware through this
context variable. The simulator sets it before starting a device's firmware task; tasks the
firmware creates inherit it.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pooldesk_firmware.sim.device import SimDevice

DEVICE: ContextVar[SimDevice] = ContextVar("DEVICE")


def current() -> SimDevice:
    try:
        return DEVICE.get()
    except LookupError:
        raise RuntimeError(
            "no simulated device in this context: start firmware code through "
            "pooldesk_firmware.sim (SimulatedController), which sets "
            "pooldesk_firmware.sim.context.DEVICE"
        ) from None
