# Boot the whole controller under MicroPython, as main.py does on the board, with its flash in
# the folder PD_FLASH (factory.json there holds the claim code). The board modules come from
# pooldesk_firmware/sim/mpy/ (PD_WORLD: the world file; PD_BLE: the Bluetooth bridge).
import os

import fw_boot

fw_boot.run(os.getenv("PD_FLASH"))
