"""The CPython Wi-Fi stand-in is no kinder than the ESP32 port, and the firmware copes with it:
a wrong password stays CONNECTING, a scan during a connection attempt finds nothing, and a typo
in the password of the network the controller is on never replaces the working one."""

from __future__ import annotations

import asyncio
import time

from pooldesk_firmware.sim.context import DEVICE
from pooldesk_firmware.sim.device import SimDevice
from pooldesk_firmware.sim.loader import FirmwareImage
from pooldesk_firmware.sim.runner import SimulatedController
from tests.firmware.conftest import Dashboard, make_binding

_firmware = FirmwareImage()  # the firmware's own modules, apart from this process's
network = _firmware.module("network")


def test_wrong_password_stays_connecting_and_scan_is_empty_meanwhile(tmp_path):
    dev = SimDevice(mac=bytes.fromhex("240ac4a1b2c3"), flash=tmp_path, wifi_delay_s=0.0)
    token = DEVICE.set(dev)
    try:
        wlan = network.WLAN(network.STA_IF)
        wlan.active(True)
        assert next(e[0] for e in wlan.scan()) == b"PoolNet"
        wlan.connect("PoolNet", "wrong-password")
        time.sleep(0.01)
        assert wlan.status() == network.STAT_CONNECTING  # the driver keeps retrying
        assert wlan.scan() == []  # the radio is busy with the attempt
        try:
            wlan.status("rssi")
            raise AssertionError("rssi without association")
        except OSError:
            pass
        wlan.disconnect()
        assert wlan.scan()  # the attempt is over: the networks are back
        wlan.connect("NoSuchNetwork", "whatever-123")
        assert wlan.status() == network.STAT_NO_AP_FOUND
        wlan.connect("PoolNet", "poolpass123")
        assert wlan.isconnected()
        assert wlan.status("rssi") == -52
    finally:
        DEVICE.reset(token)


async def test_a_wrong_password_for_the_network_it_is_on_is_not_stored(
    tmp_path, broker, dashboard: Dashboard
):
    async with SimulatedController(tmp_path / "flash", binding=make_binding(broker)) as sim:
        await dashboard.wait_for("status", lambda p: p == b"online")
        await sim.wait_until(lambda: sim.status[0] == "mqtt_connected")
        await sim.controller.apply_wifi("PoolNet", "poolpass124")
        await sim.wait_until(lambda: sim.status == ("failed", {"reason": "wifi_auth"}), within=10)
        assert sim.stored_config()["binding"]["password"] == "poolpass123"
        await sim.wait_until(lambda: sim.status[0] == "mqtt_connected", within=10)
        assert sim.stored_config()["binding"]["password"] == "poolpass123"
        await sim.power_cut()
        await sim.power_on()
        await sim.wait_until(lambda: sim.online, within=10)


async def test_a_provisioning_scan_waits_for_the_connection_attempt(tmp_path, broker):
    binding = make_binding(broker, password="wrong-password")
    async with SimulatedController(tmp_path / "flash", binding=binding, wifi_timeout_s=1.0) as sim:
        await sim.wait_until(lambda: sim.status[0] == "connecting")
        found = await asyncio.wait_for(sim.controller.wifi_scan(), 10)
        assert [n[0] for n in found][:1] == ["PoolNet"]
