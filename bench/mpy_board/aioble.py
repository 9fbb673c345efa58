# Bench stand-in for micropython-lib's `aioble`, only for a prov.py that still imports it (the
# `ble` branch moves provisioning onto the built-in `bluetooth`). Deliberately tiny: the real
# aioble's code (several KB of heap) is NOT counted while this stands in.
import asyncio

import bluetooth


class Service:
    def __init__(self, uuid):
        self.uuid = uuid
        self.characteristics = []


class Characteristic:
    def __init__(self, service, uuid, read=False, write=False, notify=False, **kwargs):
        self.uuid = uuid
        self._value = b""
        self._written = asyncio.Event()
        service.characteristics.append(self)

    def write(self, data, send_update=False):
        self._value = bytes(data)

    def read(self):
        return self._value

    async def written(self, timeout_ms=None):
        await self._written.wait()

    def notify(self, connection, data=None):
        pass


class BufferedCharacteristic(Characteristic):
    pass


class Descriptor(Characteristic):
    def __init__(self, characteristic, uuid, read=False, initial=b"", **kwargs):
        self.uuid = uuid
        self._value = initial


def register_services(*services):
    pass


async def advertise(
    interval_us, name=None, services=None, manufacturer=None, timeout_ms=None, **kwargs
):
    bluetooth.advertising[0] = True
    await asyncio.Event().wait()  # no central ever connects in the bench
