"""PoolDesk firmware: the ESP32 MicroPython sources, the host simulator and the flashing tools."""
