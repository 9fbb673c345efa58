# Frozen-firmware build manifest: MicroPython's ESP32_GENERIC with the PoolDesk modules frozen
# into the image, so their bytecode and constants stay in flash instead of being copied into
# the heap at import (bench/firmware_ram.py: ~68 KB of heap as .mpy files). Build:
#
#   cd micropython/ports/esp32
#   make BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/pooldesk/firmware/manifest.py
#
# then flash the image with `pooldesk-flash --erase --firmware build-ESP32_GENERIC/firmware.bin`
# (it still copies main.py, fw_tzdb.txt and factory.json; a module that is frozen and also on
# the flash as .mpy is taken from the flash, so delete the .mpy files or skip them).
# main.py stays a file on the flash: the board runs /main.py at boot.

include("$(PORT_DIR)/boards/manifest.py")  # noqa: F821 - the port's own frozen modules

FIRMWARE = (
    "crypto_sym.py", "crypto_x25519.py", "fw_app.py", "fw_binding.py", "fw_board.py",
    "fw_boot.py", "fw_commands.py", "fw_controller.py", "fw_expiry.py", "fw_freeze.py",
    "fw_ids.py", "fw_link.py", "fw_log.py", "fw_mqtt.py", "fw_ota.py", "fw_pump.py",
    "fw_schedule.py", "fw_sensor.py", "fw_store.py", "fw_time.py", "fw_transfer.py", "fw_tz.py",
    "fw_tzdb.py", "fw_wifi.py", "ota_ed25519.py", "prov.py", "prov_check.py", "prov_core.py",
    "prov_frame.py", "prov_session.py",
)  # fmt: skip

for name in FIRMWARE:
    module(name, base_path="device", opt=3)  # noqa: F821 - provided by makemanifest.py
