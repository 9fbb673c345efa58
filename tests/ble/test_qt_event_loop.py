"""The app runs bleak inside Qt's event loop (qasync): the Bumble back end works there too, and
leaves nothing behind when the loop closes."""

from __future__ import annotations

import asyncio

import pytest
import qasync
from bleak import BleakClient

from pooldesk.ble.central import close_shared_central
from pooldesk.ble.radio import ENV_VAR, client_backend, get_virtual_link
from pooldesk.ble.scan import scan_for_controllers
from tests.ble.conftest import PeripheralFarm
from tests.ble.test_link_and_scan import advertiser


def test_scan_and_connect_inside_a_qasync_loop(qapp, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(ENV_VAR, "virtual")

    async def session() -> list[str]:
        farm = PeripheralFarm()
        try:
            await farm.start(
                "C0:DE:00:A1:B2:C3", "ESP-A1B2C3", advertiser("ESP-A1B2C3", bound=False)
            )
            found = await scan_for_controllers(2.0, stop_when=lambda seen: len(seen) == 1)
            async with BleakClient(found[0].ble_device, backend=client_backend()) as client:
                assert client.is_connected
            return [c.device_id for c in found]
        finally:
            await farm.close()
            await close_shared_central()

    loop = qasync.QEventLoop(qapp)
    try:
        device_ids = loop.run_until_complete(session())
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    finally:
        loop.close()
    assert device_ids == ["ESP-A1B2C3"]
    assert pending == []
    assert get_virtual_link().controllers == set()
