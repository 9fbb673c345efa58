# Wi-Fi station: scan and connect, telling apart the failures a person can fix.
#
# What the ESP32 port reports (docs/firmware.md, "Wi-Fi on the board"): wlan.status() stays
# STAT_CONNECTING while the driver retries, for a wrong WPA2 password too; only
# STAT_NO_AP_FOUND and STAT_WRONG_PASSWORD are final. status("rssi") answers once the access
# point has accepted the key (associated), with or without an address. wlan.scan() blocks for
# 2-4 s and returns [] while a connection attempt is in progress, so the firmware never scans
# during one.

import asyncio

import network

SECURITY = {0: "open", 1: "wep", 2: "wpa-psk", 3: "wpa2-psk", 4: "wpa/wpa2-psk",
            5: "wpa2-enterprise", 6: "wpa3-psk", 7: "wpa2/wpa3-psk"}

_GOT_IP = getattr(network, "STAT_GOT_IP", 1010)
_AUTH = (getattr(network, "STAT_WRONG_PASSWORD", 202),
         getattr(network, "STAT_HANDSHAKE_TIMEOUT", 204))
_NOT_FOUND = (getattr(network, "STAT_NO_AP_FOUND", 201),)
_POLL_S = 0.1


class Wifi:
    def __init__(self):
        self.wlan = network.WLAN(network.STA_IF)
        self.wlan.active(True)
        self.ssid = None
        self._key = None          # the password the current connection was made with
        self._attempt = None      # an Event while a connection attempt runs
        self.timeout_s = 20

    async def scan(self):
        """-> [(ssid, rssi, security)], strongest first, hidden networks left out. Waits for a
        connection attempt in progress to end first (the radio would return nothing)."""
        attempt = self._attempt
        if attempt is not None:
            try:
                await asyncio.wait_for(attempt.wait(), self.timeout_s + 5)
            except asyncio.TimeoutError:
                pass
        return self._scan_now()

    def _scan_now(self):
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

    def _associated(self):
        return self.rssi() is not None

    def disconnect(self):
        try:
            self.wlan.disconnect()
        except OSError:
            pass
        self.ssid = self._key = None

    async def connect(self, ssid, password, timeout_s=20):
        """-> (None, ip) on success, or (reason, None): wifi_auth, wifi_not_found, no_ip.

        Already connected with this very SSID and password: nothing to do. A long CONNECTING
        ends in a scan: the network is there but never accepted the key -> wifi_auth (a wrong
        password, most likely); it accepted the key but gave no address -> no_ip; not there
        -> wifi_not_found."""
        if self.ssid == ssid and self._key == password and self.wlan.isconnected():
            return None, self.ip()
        self.timeout_s = timeout_s
        self.disconnect()
        self._attempt = asyncio.Event()
        try:
            return await self._attempt_connect(ssid, password, timeout_s)
        except asyncio.CancelledError:
            self.disconnect()  # new settings or shutdown: leave the radio idle
            raise
        finally:
            self._attempt.set()
            self._attempt = None

    async def _attempt_connect(self, ssid, password, timeout_s):
        self.wlan.connect(ssid, password)
        waited = 0.0
        while waited < timeout_s:
            status = self.wlan.status()
            if status == _GOT_IP or self.wlan.isconnected():
                self.ssid, self._key = ssid, password
                return None, self.ip()
            if status in _AUTH:
                self.disconnect()
                return "wifi_auth", None
            if status in _NOT_FOUND:
                self.disconnect()
                return "wifi_not_found", None
            await asyncio.sleep(_POLL_S)
            waited += _POLL_S
        associated = self._associated()
        self.disconnect()  # ends the attempt: the radio can scan again
        if associated:
            return "no_ip", None
        for entry in self._scan_now():
            if entry[0] == ssid:
                return "wifi_auth", None
        return "wifi_not_found", None
