# Wi-Fi station: scan and connect, telling apart the failures a person can fix.

import asyncio

import network

SECURITY = {0: "open", 1: "wep", 2: "wpa-psk", 3: "wpa2-psk", 4: "wpa/wpa2-psk",
            5: "wpa2-enterprise", 6: "wpa3-psk", 7: "wpa2/wpa3-psk"}

_GOT_IP = getattr(network, "STAT_GOT_IP", 1010)
_AUTH = (getattr(network, "STAT_WRONG_PASSWORD", 202), getattr(network, "STAT_HANDSHAKE_TIMEOUT", 204))
_NOT_FOUND = (getattr(network, "STAT_NO_AP_FOUND", 201),)
_FAILED = (getattr(network, "STAT_CONNECT_FAIL", 203), getattr(network, "STAT_ASSOC_FAIL", 203),
           getattr(network, "STAT_BEACON_TIMEOUT", 200))


class Wifi:
    def __init__(self):
        self.wlan = network.WLAN(network.STA_IF)
        self.wlan.active(True)
        self.ssid = None

    async def scan(self):
        """-> [(ssid, rssi, security)], strongest first, hidden networks left out."""
        found = {}
        for entry in self.wlan.scan():
            try:
                ssid = bytes(entry[0]).decode()
            except Exception:
                continue
            if not ssid:
                continue
            rssi = entry[3]
            if ssid not in found or found[ssid][1] < rssi:
                found[ssid] = (ssid, rssi, SECURITY.get(entry[4], "unknown"))
        out = list(found.values())
        out.sort(key=lambda e: -e[1])
        return out

    def connected(self):
        return self.wlan.isconnected()

    def ip(self):
        return self.wlan.ifconfig()[0] if self.wlan.isconnected() else None

    def rssi(self):
        try:
            return self.wlan.status("rssi")
        except Exception:
            return None

    def disconnect(self):
        try:
            self.wlan.disconnect()
        except OSError:
            pass
        self.ssid = None

    async def connect(self, ssid, password, timeout_s=20):
        """-> (None, ip) on success, or (reason, None): wifi_auth, wifi_not_found, no_ip."""
        if self.ssid == ssid and self.wlan.isconnected():
            return None, self.ip()
        self.disconnect()
        self.wlan.connect(ssid, password)
        waited = 0.0
        while waited < timeout_s:
            status = self.wlan.status()
            if status == _GOT_IP or self.wlan.isconnected():
                self.ssid = ssid
                return None, self.ip()
            if status in _AUTH:
                self.disconnect()
                return "wifi_auth", None
            if status in _NOT_FOUND:
                self.disconnect()
                return "wifi_not_found", None
            if status in _FAILED:
                break
            await asyncio.sleep(0.1)
            waited += 0.1
        # Still associating after the timeout: the access point answered but gave no address.
        self.disconnect()
        for entry in await self.scan():
            if entry[0] == ssid:
                return "no_ip", None
        return "wifi_not_found", None
