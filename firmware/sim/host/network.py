"""Host stand-in for MicroPython's `network` (station interface only).

The simulated access points are the device's table of `FakeNetwork`s: a connect succeeds only
with the right password; the statuses are the ESP32 port's.
"""

from __future__ import annotations

import time

from firmware.sim.context import current

STA_IF, AP_IF = 0, 1
STAT_IDLE = 1000
STAT_CONNECTING = 1001
STAT_GOT_IP = 1010
STAT_BEACON_TIMEOUT = 200
STAT_NO_AP_FOUND = 201
STAT_WRONG_PASSWORD = 202
STAT_ASSOC_FAIL = 203
STAT_HANDSHAKE_TIMEOUT = 204


class WLAN:
    def __init__(self, interface: int = STA_IF) -> None:
        if interface != STA_IF:
            raise OSError("only the station interface is simulated")
        self._dev = current()

    @property
    def _s(self):
        return self._dev.wlan

    def active(self, flag: bool | None = None) -> bool | None:
        if flag is None:
            return self._s.active
        self._s.active = bool(flag)
        return None

    def scan(self) -> list[tuple]:
        if not self._s.active:
            raise OSError("Wifi Not Started")
        return [
            (n.ssid.encode(), bytes(6), n.channel, n.rssi, n.security, False)
            for n in self._dev.networks
        ]

    def connect(self, ssid: str, key: str | None = None) -> None:
        if not self._s.active:
            raise OSError("Wifi Not Started")
        s = self._s
        s.ssid, s.password = ssid, key or ""
        s.status = STAT_CONNECTING
        s.resolve_at = time.monotonic() + self._dev.wifi_delay_s

    def _resolve(self) -> None:
        s = self._s
        if s.status != STAT_CONNECTING or time.monotonic() < s.resolve_at:
            return
        net = self._dev.network(s.ssid)
        if net is None:
            s.status = STAT_NO_AP_FOUND
        elif net.password != s.password:
            s.status = STAT_WRONG_PASSWORD
        elif net.dhcp:
            s.status = STAT_GOT_IP
        # associated without DHCP: stays CONNECTING, as on the board

    def status(self, param: str | None = None):
        self._resolve()
        if param == "rssi":
            net = self._dev.network(self._s.ssid)
            if self._s.status != STAT_GOT_IP or net is None:
                raise OSError("not connected")
            return net.rssi
        if param is not None:
            raise ValueError("unknown status parameter")
        return self._s.status

    def isconnected(self) -> bool:
        return self.status() == STAT_GOT_IP and self._dev.network(self._s.ssid) is not None

    def disconnect(self) -> None:
        self._s.status = STAT_IDLE
        self._s.ssid = None

    def ifconfig(self, config: tuple | None = None) -> tuple:
        if self.isconnected():
            mac = self._dev.mac
            return (
                f"192.168.{mac[-2]}.{max(2, mac[-1])}",
                "255.255.255.0",
                f"192.168.{mac[-2]}.1",
                f"192.168.{mac[-2]}.1",
            )
        return ("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0")  # noqa: S104 - an address, not a bind

    def config(self, name: str):
        if name == "mac":
            return self._dev.mac
        if name == "ssid":
            return self._s.ssid
        raise ValueError("unknown config param")
