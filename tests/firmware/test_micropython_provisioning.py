"""The whole controller under the real MicroPython interpreter: it boots, advertises on the
built-in `bluetooth` module (the stand-in in pooldesk_firmware/sim/mpy/, whose far side is this
test),
is provisioned by the app's real protocol client over that bridge, goes online on a real
Mosquitto, and switches Bluetooth off once bound and online."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pooldesk.provisioning import (
    Binding,
    ProvisioningClient,
    WrongClaimCode,
    parse_manufacturer_data,
)
from tests.support import micropython
from tests.support.ble_bridge import BleBridge, BridgeGattLink
from tests.support.notification_order import NotificationOrder
from tests.support.plain_mosquitto import plain_mosquitto

SCRIPT = micropython.SCRIPTS_DIR / "mpy_boot.py"
CODE = "KQ4M7XTZ2PB6WRHD"
DEVICE_ID = "ESP-A1B2C3"
PREFIX = "users/alice/devices/esp-a1b2c3"
LOGINS = {"dev-esp-a1b2c3": "mqtt-secret-device", "dashboard": "mqtt-secret-dashboard"}


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[int]:
    with plain_mosquitto(tmp_path, logins=LOGINS) as port:
        yield port


def world(tmp_path: Path, button: int = 1) -> Path:
    """Write the world file (the BOOT button: 1 released, 0 pressed), atomically."""
    path = tmp_path / "world.json"
    spare = tmp_path / "world.json.new"
    spare.write_text(
        json.dumps(
            {
                "mac": "240ac4a1b2c3",
                "networks": [
                    {"ssid": "PoolNet", "password": "poolpass123", "rssi": -52, "security": 3},
                    {"ssid": "Neighbour", "password": "not-ours-1", "rssi": -80, "security": 3},
                ],
                "connect_s": 0.3,
                "scan_s": 0.3,
                "pins": {"0": button},
            }
        )
    )
    spare.replace(path)
    return path


def retained(port: int, topic: str, timeout: int = 10) -> str:
    """The retained message on `topic`, read by a second login (mosquitto_sub)."""
    tool = shutil.which("mosquitto_sub") or "/usr/bin/mosquitto_sub"
    user = "dashboard"
    done = subprocess.run(
        [
            tool,
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-u",
            user,
            "-P",
            LOGINS[user],
            "-t",
            topic,
            "-C",
            "1",
            "-W",
            str(timeout),
        ],
        capture_output=True,
        text=True,
        timeout=timeout + 5,
        check=False,
    )
    return done.stdout.strip()


async def test_controller_under_micropython_is_provisioned_over_the_bridge_and_goes_online(
    tmp_path: Path, broker: int
) -> None:
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "factory.json").write_text(json.dumps({"claim_code": CODE}))
    async with BleBridge() as bridge:
        env = {"PD_WORLD": str(world(tmp_path)), "PD_BLE": bridge.address, "PD_FLASH": str(flash)}
        with micropython.Process(SCRIPT, cwd=flash, env=env) as device:
            try:
                await bridge.wait_until(lambda: bridge.advertisement is not None, within=30)
                heard = time.monotonic()
                adv, resp = bridge.advertisement
                assert bridge.gap_name == DEVICE_ID  # not "MPY ESP32"
                maker = resp[resp.index(b"\x0a\xff") + 2 :]
                assert maker[:2] == b"\xff\xff"
                assert parse_manufacturer_data(maker[2:]) == (DEVICE_ID, False)
                assert len(adv) <= 31
                assert len(resp) <= 31

                await bridge.connect(mtu=185)
                assert bridge.mtu == 185
                link = NotificationOrder(await BridgeGattLink.open(bridge))
                client = ProvisioningClient(link, timeout=15, slow_timeout=30)
                bridge.on_lost = client.connection_lost
                info = await client.device_info()
                assert info.device_id == DEVICE_ID
                assert not info.bound
                with pytest.raises(WrongClaimCode):
                    await client.open_session("AAAAAAAAAAAAAAAA")
                await client.open_session(CODE)
                assert [n.ssid for n in await client.scan_wifi()] == ["PoolNet", "Neighbour"]
                binding = Binding(
                    ssid="PoolNet",
                    password="poolpass123",
                    broker_url=f"mqtt://127.0.0.1:{broker}",
                    mqtt_user="dev-esp-a1b2c3",
                    mqtt_password=LOGINS["dev-esp-a1b2c3"],
                    client_id="esp-a1b2c3",
                    topic_prefix=PREFIX,
                    username="alice",
                )
                mark = len(link.endpoints)
                final = await client.send_binding(binding, wait=True, timeout_s=30)
                assert final is not None, final
                assert final.state == "mqtt_connected", final
                # the answer first, then what the attempt with these settings reports
                assert link.since(mark) == ["prov-config", "prov-status"]
                online = time.monotonic()
                assert (await client.device_info()).bound
                await client.close()
                bridge.disconnect()

                # bound and online, no peer: the firmware switches Bluetooth off
                await bridge.wait_until(lambda: not bridge.active, within=10)
                assert bridge.advertisement is None
                status = await asyncio.to_thread(retained, broker, PREFIX + "/status")
                assert status == "online"

                # a short press (1-5 s) wakes Bluetooth for a Wi-Fi change; no MTU exchange now
                world(tmp_path, button=0)
                await asyncio.sleep(1.5)
                world(tmp_path, button=1)
                await bridge.wait_until(lambda: bridge.advertisement is not None, within=10)
                await bridge.connect(mtu=None)
                link = await BridgeGattLink.open(bridge)
                assert link.mtu == 23
                client = ProvisioningClient(link, timeout=15, slow_timeout=30)
                bridge.on_lost = client.connection_lost
                await client.open_session(CODE)
                assert (await client.status()).state == "mqtt_connected"
                assert len(await client.scan_wifi()) == 2  # many 20-byte notifications
                await client.close()
                bridge.disconnect()
                await bridge.wait_until(lambda: not bridge.active, within=10)
                print(
                    f"MicroPython controller: advertisement heard -> online {online - heard:.2f} s"
                )
            except BaseException:
                print(device.output())
                raise
