# Water temperature from a DS18B20 on OneWire. Any failure reads as None.

import asyncio

import ds18x20
import machine
import onewire

POWER_ON_VALUE = 85.0  # what a DS18B20 returns when no conversion happened (brown-out, wiring)


class WaterSensor:
    def __init__(self, pin_no, conversion_s=0.75):
        self.ds = ds18x20.DS18X20(onewire.OneWire(machine.Pin(pin_no)))
        self.conversion_s = conversion_s
        self.rom = None

    async def read(self):
        try:
            if self.rom is None:
                roms = self.ds.scan()
                if not roms:
                    return None
                self.rom = roms[0]
            self.ds.convert_temp()
            await asyncio.sleep(self.conversion_s)
            t = self.ds.read_temp(self.rom)
        except Exception:  # CRC error, no presence pulse: look for the sensor again next time
            self.rom = None
            return None
        if t is None or t == POWER_ON_VALUE or not -55 <= t <= 125:
            return None
        return round(t, 2)
