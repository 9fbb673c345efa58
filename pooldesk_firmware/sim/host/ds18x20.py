"""Host stand-in for MicroPython's `ds18x20`: reads the simulated water temperature."""

from onewire import OneWire, OneWireError


class DS18X20:
    def __init__(self, onewire: OneWire) -> None:
        self.ow = onewire

    def scan(self) -> list[bytes]:
        return self.ow.scan()

    def convert_temp(self) -> None:
        self.ow.reset(True)

    def read_temp(self, rom: bytes) -> float:
        value = self.ow._dev.water.read(self.ow._dev.clock)
        if value is None:
            raise OneWireError("CRC error")
        return value
