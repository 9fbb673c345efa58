# Bench stand-in for the ESP32 port's `network` WLAN station: one network, "PoolNet" with
# password "poolpass123"; a connect takes 0.2 s; anything else stays STAT_CONNECTING, as a
# wrong WPA2 password does on the board.
import time

STA_IF = 0
AP_IF = 1
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
NETWORKS = {"PoolNet": ("poolpass123", -52, 3)}
_sta = {"active": False, "ssid": None, "key": None, "since": 0}


class WLAN:
    def __init__(self, interface=STA_IF):
        self.interface = interface

    def active(self, on=None):
        if on is None:
            return _sta["active"]
        _sta["active"] = bool(on)
        return None

    def scan(self):
        if _sta["ssid"] is not None and not self.isconnected():
            return []  # the ESP32 returns nothing while it is connecting
        return [
            (ssid.encode(), b"\x00\x11\x22\x33\x44\x55", 6, rssi, sec, False)
            for ssid, (_, rssi, sec) in NETWORKS.items()
        ]

    def connect(self, ssid, key=None):
        _sta["ssid"], _sta["key"], _sta["since"] = ssid, key, time.ticks_ms()

    def disconnect(self):
        _sta["ssid"] = None

    def status(self, param=None):
        if param == "rssi":
            if not self.isconnected():
                raise OSError("not connected")
            return NETWORKS[_sta["ssid"]][1]
        if _sta["ssid"] is None:
            return STAT_IDLE
        if self.isconnected():
            return STAT_GOT_IP
        return STAT_CONNECTING

    def isconnected(self):
        net = NETWORKS.get(_sta["ssid"])
        return (
            net is not None
            and net[0] == _sta["key"]
            and time.ticks_diff(time.ticks_ms(), _sta["since"]) >= 200
        )

    def ifconfig(self):
        if not self.isconnected():
            return ("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0")
        return ("192.168.1.50", "255.255.255.0", "192.168.1.1", "192.168.1.1")

    def config(self, *args, **kwargs):
        if args == ("mac",):
            return b"\x24\x0a\xc4\xa1\xb2\xc3"
        return None
