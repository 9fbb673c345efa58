# MicroPython runs this file after boot. fw_boot picks the firmware version (docs/updates.md).
import fw_boot

fw_boot.run("/")
