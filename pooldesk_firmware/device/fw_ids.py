# Device identity: "ESP-XXXXXX" from the last three bytes of the MAC (public, never a secret).

import binascii

FW_VERSION = "0.4.0"


def device_id(mac):
    if len(mac) < 3:
        raise ValueError("MAC too short")
    return "ESP-" + binascii.hexlify(mac[-3:]).decode().upper()


def topic_id(dev_id):
    """Device id as a topic level: lower case (ESP-A1B2C3 -> esp-a1b2c3)."""
    return dev_id.lower()
