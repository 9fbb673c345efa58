# Stand-in for MicroPython's `ds18x20`: reads the world's water temperature in the sensor's
# 1/16 degree steps. No sensor: OneWireError on convert; 85.0 is what a sensor that did no
# conversion returns (the world can say so).

import board_world


class DS18X20:
    def __init__(self, onewire):
        self.ow = onewire

    def scan(self):
        return [rom for rom in self.ow.scan() if rom[0] in (0x10, 0x22, 0x28)]

    def convert_temp(self):
        self.ow.reset(True)

    def read_temp(self, rom):
        value = board_world.get()["water_c"]
        if value is None:
            raise Exception("CRC error")
        return round(value * 16) / 16
