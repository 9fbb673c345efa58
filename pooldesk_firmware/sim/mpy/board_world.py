# The simulated world the MicroPython stand-ins read (network, machine, ntptime, onewire,
# ds18x20): a JSON file a test writes and may rewrite at any time, named by the PD_WORLD
# environment variable. What the board does that a test wants to see (pin levels, resets) is
# printed as tagged JSON lines on stdout. No firmware logic lives here.
#
# {"mac": "240ac4a1b2c3",
#  "networks": [{"ssid": "PoolNet", "password": "poolpass123", "rssi": -52, "security": 3,
#                "dhcp": true, "channel": 6, "hidden": false}],
#  "connect_s": 1.0,          # association + DHCP time of a good connect
#  "scan_s": 2.5,             # a scan blocks the whole program this long (ESP32: 2-4 s)
#  "wrong_password": "connecting",   # or "202": how the driver reports a wrong password
#  "ntp": true, "ntp_s": 0.05,
#  "water_c": 26.0,           # null: no sensor on the bus
#  "pins": {"0": 1},          # input levels (the BOOT button is pin 0, 1 = released)
#  "report_pins": [26],       # output pins whose changes are printed
#  "reset_cause": 1}

import json
import os
import time

TAG = "@@MPY "
DEFAULTS = {
    "mac": "240ac4a1b2c3",
    "networks": [],
    "connect_s": 1.0,
    "scan_s": 2.5,
    "wrong_password": "connecting",
    "ntp": True,
    "ntp_s": 0.05,
    "water_c": 26.0,
    "pins": {},
    "report_pins": [],
    "reset_cause": 1,
}
_REREAD_MS = 50
_cache = None
_read_at = 0


def get():
    """The world as the test last wrote it (re-read at most every 50 ms)."""
    global _cache, _read_at
    now = time.ticks_ms()
    if _cache is not None and time.ticks_diff(now, _read_at) < _REREAD_MS:
        return _cache
    world = dict(DEFAULTS)
    path = os.getenv("PD_WORLD")
    if path:
        try:
            with open(path) as f:
                world.update(json.load(f))
        except (OSError, ValueError):
            if _cache is not None:  # caught mid-write: keep the last good one
                return _cache
    _cache, _read_at = world, now
    return world


def network(ssid):
    for n in get()["networks"]:
        if n.get("ssid") == ssid:
            return n
    return None


def emit(event, **fields):
    fields["event"] = event
    print(TAG + json.dumps(fields))
