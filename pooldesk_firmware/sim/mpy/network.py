# Stand-in for the ESP32 port's `network` (WLAN station + access point), driven by the world
# file (board_world). It behaves as the ESP32 port does, never kinder:
# - status(): STAT_CONNECTING while the driver tries; only STAT_NO_AP_FOUND (201) and
#   STAT_WRONG_PASSWORD (202) are final failures, and a wrong WPA2 password usually stays
#   CONNECTING while the driver retries (world "wrong_password": "connecting", the default);
#   associated without an address also stays CONNECTING.
# - status("rssi") works once associated (with or without an address), OSError otherwise.
# - scan() blocks the whole program 2-4 s and returns [] while a connection attempt is in
#   progress.
# - A connected network that goes away: the driver reconnects (CONNECTING) until it is back.

import time

import board_world

STA_IF = 0
AP_IF = 1
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_BEACON_TIMEOUT = 200
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
STAT_ASSOC_FAIL = 203
STAT_HANDSHAKE_TIMEOUT = 204
AUTH_OPEN = 0
AUTH_WEP = 1
AUTH_WPA_PSK = 2
AUTH_WPA2_PSK = 3
AUTH_WPA_WPA2_PSK = 4

# one radio: every WLAN(STA_IF) object shares it, as on the board
_sta = {"active": False, "status": STAT_IDLE, "ssid": None, "key": None, "since": 0}
_ap = {"active": False, "essid": None}


def _mac():
    import binascii

    return binascii.unhexlify(board_world.get()["mac"])


def _elapsed_s():
    return time.ticks_diff(time.ticks_ms(), _sta["since"]) / 1000


def _associated():
    """The access point accepted our key (the station may still lack an address)."""
    s = _sta
    if s["status"] not in (STAT_CONNECTING, STAT_GOT_IP) or s["ssid"] is None:
        return False
    net = board_world.network(s["ssid"])
    if net is None or net.get("password", "") != s["key"]:
        return False
    return _elapsed_s() >= board_world.get()["connect_s"] / 2


def _update():
    s = _sta
    if s["status"] == STAT_GOT_IP:
        net = board_world.network(s["ssid"])
        if net is None or net.get("password", "") != s["key"] or not net.get("dhcp", True):
            s["status"], s["since"] = STAT_CONNECTING, time.ticks_ms()  # the driver retries
        return
    if s["status"] != STAT_CONNECTING or _elapsed_s() < board_world.get()["connect_s"]:
        return
    net = board_world.network(s["ssid"])
    if net is None:
        s["status"] = STAT_NO_AP_FOUND
    elif net.get("password", "") != s["key"]:
        if board_world.get()["wrong_password"] == "202":  # noqa: S105 - a status, not a secret
            s["status"] = STAT_WRONG_PASSWORD
        # else: stays CONNECTING, the driver keeps retrying
    elif net.get("dhcp", True):
        s["status"] = STAT_GOT_IP


class WLAN:
    def __init__(self, interface=STA_IF):
        if interface not in (STA_IF, AP_IF):
            raise ValueError("invalid interface")
        self._if = interface

    def active(self, flag=None):
        state = _sta if self._if == STA_IF else _ap
        if flag is None:
            return state["active"]
        state["active"] = bool(flag)
        if not flag and self._if == STA_IF:
            _sta["status"], _sta["ssid"] = STAT_IDLE, None
        return None

    def _need_sta(self):
        if self._if != STA_IF:
            raise OSError("STA required")
        if not _sta["active"]:
            raise OSError("Wifi Not Started")

    def connect(self, ssid=None, key=None, *, bssid=None):
        self._need_sta()
        _sta["ssid"], _sta["key"] = ssid, key or ""
        _sta["status"], _sta["since"] = STAT_CONNECTING, time.ticks_ms()

    def disconnect(self):
        self._need_sta()
        _sta["status"], _sta["ssid"], _sta["key"] = STAT_IDLE, None, None

    def status(self, param=None):
        if param is None:
            if self._if != STA_IF:
                return STAT_IDLE
            _update()
            return _sta["status"]
        if param == "rssi":
            self._need_sta()
            _update()
            if not _associated():
                raise OSError("STA must be connected")
            return board_world.network(_sta["ssid"]).get("rssi", -60)
        if param == "stations":
            return []
        raise ValueError("unknown status param")

    def isconnected(self):
        if self._if != STA_IF:
            return False
        _update()
        return _sta["status"] == STAT_GOT_IP

    def scan(self):
        self._need_sta()
        world = board_world.get()
        time.sleep(world["scan_s"])  # blocks everything, asyncio included, as on the board
        _update()
        if _sta["status"] == STAT_CONNECTING:
            return []  # the radio is busy with the connection attempt
        out = []
        for n in board_world.get()["networks"]:
            ssid = b"" if n.get("hidden") else n["ssid"].encode()
            out.append(
                (
                    ssid,
                    _mac(),
                    n.get("channel", 6),
                    n.get("rssi", -60),
                    n.get("security", AUTH_WPA2_PSK),
                    bool(n.get("hidden")),
                )
            )
        return out

    def ifconfig(self, config=None):
        if config is not None:
            return None
        if self.isconnected():
            mac = _mac()
            return (
                "192.168.%d.%d" % (mac[-2], max(2, mac[-1])),
                "255.255.255.0",
                "192.168.%d.1" % mac[-2],
                "192.168.%d.1" % mac[-2],
            )
        return ("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0")  # noqa: S104 - not a bind

    def config(self, *args, **kwargs):
        if kwargs:
            if self._if == AP_IF and "essid" in kwargs:
                _ap["essid"] = kwargs["essid"]
            return None
        if len(args) != 1:
            raise TypeError("can query only one param")
        name = args[0]
        if name == "mac":
            return _mac()
        if name in ("ssid", "essid"):
            return _sta["ssid"] if self._if == STA_IF else _ap["essid"]
        raise ValueError("unknown config param")
