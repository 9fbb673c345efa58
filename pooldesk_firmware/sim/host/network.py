"""Host stand-in for MicroPython's `network` (station interface only).

The simulated access points are the device's table of `FakeNetwork`s. The statuses are the
ESP32 port's and mean what they mean there, never kinder (the MicroPython-side stand-in,
`pooldesk_firmware/sim/mpy/network.py`, follows the same rules):
- only STAT_NO_AP_FOUND (201) is a final failure here; a wrong password stays
  STAT_CONNECTING while the driver retries, and so does an association without DHCP;
- `status("rssi")` answers once associated (right key), with or without an address;
- `scan()` returns [] while a connection attempt is in progress. It does not block here: one
  process runs many simulated devices and the app under test on one event loop;
- a connected network that goes away: back to CONNECTING (the driver reconnects).
"""

from __future__ import annotations

import time

from pooldesk_firmware.sim.context import current

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
        self._resolve()
        if self._s.status == STAT_CONNECTING:
            return []  # the radio is busy with the connection attempt
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

    def _key_ok(self) -> bool:
        net = self._dev.network(self._s.ssid)
        return net is not None and net.password == self._s.password

    def _resolve(self) -> None:
        s = self._s
        if s.status == STAT_GOT_IP:
            net = self._dev.network(s.ssid)
            if net is None or not self._key_ok() or not net.dhcp:
                s.status = STAT_CONNECTING  # the driver retries
                s.resolve_at = time.monotonic() + self._dev.wifi_delay_s
            return
        if s.status != STAT_CONNECTING or time.monotonic() < s.resolve_at:
            return
        net = self._dev.network(s.ssid)
        if net is None:
            s.status = STAT_NO_AP_FOUND
        elif self._key_ok() and net.dhcp:
            s.status = STAT_GOT_IP
        # a wrong key, or associated without DHCP: stays CONNECTING, as on the board

    def _associated(self) -> bool:
        s = self._s
        return (
            s.status in (STAT_CONNECTING, STAT_GOT_IP)
            and time.monotonic() >= s.resolve_at
            and self._key_ok()
        )

    def status(self, param: str | None = None):
        self._resolve()
        if param == "rssi":
            if not self._associated():
                raise OSError("STA must be connected")
            net = self._dev.network(self._s.ssid)
            if net is None:  # the network went away
                raise OSError("STA must be connected")
            return net.rssi
        if param is not None:
            raise ValueError("unknown status parameter")
        return self._s.status

    def isconnected(self) -> bool:
        return self.status() == STAT_GOT_IP

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
