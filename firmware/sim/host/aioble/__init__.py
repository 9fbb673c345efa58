"""Host stand-in for micropython-lib's ``aioble`` (peripheral role), on Bumble.

Covers what the firmware uses: ``Service``, ``Characteristic`` (``capture=True``),
``BufferedCharacteristic``, ``Descriptor``, ``register_services``, ``advertise`` and
``DeviceConnection`` (``disconnected()``, ``is_connected()``, ``mtu``, ``timeout()``). Each
simulated controller's radio comes from ``firmware.sim.blectx.PERIPHERAL``. No firmware logic.
"""

from .core import GattError, config, stop
from .device import Device, DeviceConnection, DeviceDisconnectedError, DeviceTimeout
from .peripheral import advertise
from .server import (
    BufferedCharacteristic,
    Characteristic,
    Descriptor,
    Service,
    register_services,
)

ADDR_PUBLIC = 0
ADDR_RANDOM = 1

__all__ = [
    "ADDR_PUBLIC",
    "ADDR_RANDOM",
    "BufferedCharacteristic",
    "Characteristic",
    "Descriptor",
    "Device",
    "DeviceConnection",
    "DeviceDisconnectedError",
    "DeviceTimeout",
    "GattError",
    "Service",
    "advertise",
    "config",
    "register_services",
    "stop",
]
