# Stand-in for MicroPython's `onewire`: one DS18B20 on the bus while the world has a water
# temperature (world "water_c" not null).

import board_world

SIM_ROM = b"\x28\xff\x4c\x1a\x33\x16\x03\x42"


class OneWireError(Exception):
    pass


class OneWire:
    SEARCH_ROM = 0xF0
    MATCH_ROM = 0x55
    SKIP_ROM = 0xCC

    def __init__(self, pin):
        self.pin = pin

    def _present(self):
        return board_world.get()["water_c"] is not None

    def reset(self, required=False):
        present = self._present()
        if required and not present:
            raise OneWireError
        return present

    def scan(self):
        return [SIM_ROM] if self._present() else []

    def crc8(self, data):
        crc = 0
        for b in data:
            for _ in range(8):
                mix = (crc ^ b) & 1
                crc >>= 1
                if mix:
                    crc ^= 0x8C
                b >>= 1
        return crc
