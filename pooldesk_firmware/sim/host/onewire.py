"""Host stand-in for MicroPython's `onewire`: one simulated DS18B20 on the bus when present."""

from pooldesk_firmware.sim.context import current

SIM_ROM = bytes.fromhex("28ff4c1a33160342")


class OneWireError(Exception):
    pass


class OneWire:
    def __init__(self, pin) -> None:
        self.pin = pin
        self._dev = current()

    def reset(self, required: bool = False) -> bool:
        present = self._dev.water.present
        if required and not present:
            raise OneWireError("no presence pulse")
        return present

    def scan(self) -> list[bytes]:
        return [SIM_ROM] if self._dev.water.present else []
