"""The wizard's Bluetooth helpers: the controller scan and the GattLink by endpoint name."""

from __future__ import annotations

import asyncio

import pytest

from pooldesk.ble.link import open_gatt_link
from pooldesk.ble.scan import scan_for_controllers
from pooldesk.core.failures import Code, failure
from pooldesk.provisioning import SERVICE_UUID as PROVISIONING_SERVICE
from pooldesk.provisioning import LinkError
from pooldesk.ui import format as fmt
from pooldesk.ui import i18n
from tests.ble.echo_app import SERVICE_UUID as ECHO_SERVICE
from tests.ble.echo_app import EchoApp
from tests.ble.gatt_app import (
    IRQ_CENTRAL_CONNECT,
    IRQ_CENTRAL_DISCONNECT,
    Inbox,
    bluetooth,
    payloads,
)


def advertiser(name: str, *, bound: bool | None, service: str = PROVISIONING_SERVICE):
    """An app that only advertises, the way a controller does (docs/provisioning.md §1)."""

    async def run() -> None:
        manufacturer = None
        if bound is not None:
            manufacturer = (0xFFFF, b"PD\x01" + bytes([bound]) + bytes.fromhex(name[4:]))
        ble = bluetooth.BLE()
        inbox = Inbox(ble)
        ble.active(True)
        adv, resp = payloads(name, [service], manufacturer)
        while True:
            ble.gap_advertise(100_000, adv, resp_data=resp)
            await inbox.next(IRQ_CENTRAL_CONNECT)
            await inbox.next(IRQ_CENTRAL_DISCONNECT)

    return run


async def test_scan_lists_controllers_with_progress_and_skips_other_devices(farm):
    await farm.start("C0:DE:00:A1:B2:C3", "ESP-A1B2C3", advertiser("ESP-A1B2C3", bound=False))
    await farm.start("C0:DE:00:D4:E5:F6", "ESP-D4E5F6", advertiser("ESP-D4E5F6", bound=True))
    await farm.start(
        "C0:DE:00:00:00:99",
        "Heart",
        advertiser("Heart", bound=None, service="0000180d-0000-1000-8000-00805f9b34fb"),
    )
    progress: list[float] = []
    announced: list[str] = []

    found = await scan_for_controllers(
        0.4, on_progress=progress.append, on_found=lambda c: announced.append(c.device_id)
    )

    assert {(c.device_id, c.bound, c.name) for c in found} == {
        ("ESP-A1B2C3", False, "ESP-A1B2C3"),
        ("ESP-D4E5F6", True, "ESP-D4E5F6"),
    }
    assert sorted(announced) == ["ESP-A1B2C3", "ESP-D4E5F6"]  # once each, not per packet
    assert all(c.rssi < 0 and c.address.startswith("C0:DE:00") for c in found)
    assert progress[0] == 0.0
    assert progress[-1] == 1.0
    assert progress == sorted(progress)
    assert len(progress) >= 4


async def test_scan_can_stop_as_soon_as_the_wanted_controller_is_heard(farm):
    await farm.start("C0:DE:00:A1:B2:C3", "ESP-A1B2C3", advertiser("ESP-A1B2C3", bound=False))
    loop = asyncio.get_running_loop()
    started = loop.time()
    found = await scan_for_controllers(5.0, stop_when=lambda seen: "ESP-A1B2C3" in seen)
    assert [c.device_id for c in found] == ["ESP-A1B2C3"]
    assert loop.time() - started < 1.0


async def test_gatt_link_reads_writes_and_subscribes_by_endpoint_name(farm):
    app = EchoApp("ESP-A1B2C3", b'{"v":1}')
    await farm.start("C0:DE:00:A1:B2:C3", "ESP-A1B2C3", app.run)
    echoes: list[bytes] = []
    async with open_gatt_link("C0:DE:00:A1:B2:C3", service_uuid=ECHO_SERVICE) as link:
        assert set(link.endpoints) == {"device-info", "command", "events", "large"}
        assert link.mtu == 256
        assert await link.read("device-info") == b'{"v":1}'
        await link.subscribe("events", echoes.append)
        await link.write("command", b"hello")
        with pytest.raises(LinkError, match="no 'prov-session' endpoint") as missing:
            await link.read("prov-session")
        known = "command, device-info, events, large"
        assert missing.value.failure == failure(
            Code.LINK_NO_ENDPOINT, endpoint="prov-session", known=known
        )
        with pytest.raises(LinkError, match="does not fit") as too_big:
            await link.write("command", bytes(link.mtu - 2))
        assert too_big.value.failure == failure(
            Code.LINK_WRITE_TOO_BIG, size=link.mtu - 2, endpoint="command", limit=link.mtu - 3
        )
        with pytest.raises(LinkError) as refused:
            await link.read("command")
        assert refused.value.failure is not None
        assert refused.value.failure.code is Code.LINK_GATT_REFUSED
        assert refused.value.failure.params["endpoint"] == "command"
        await link.write("command", b"drop")  # the controller hangs up
        async with asyncio.timeout(2):
            await link.disconnected.wait()
        with pytest.raises(LinkError) as gone:
            await link.write("command", b"late")
        assert gone.value.failure == failure(Code.LINK_NOT_CONNECTED)
    assert echoes == [b"echo:hello"]


async def test_gatt_link_to_an_absent_controller_says_what_to_do(virtual_radio, qapp):
    with pytest.raises(LinkError, match="not in range any more") as absent:
        async with open_gatt_link("C0:DE:00:00:00:42", connect_timeout=0.3):
            pass
    assert absent.value.failure == failure(Code.LINK_OUT_OF_RANGE, name="C0:DE:00:00:00:42")
    assert i18n.install_translator(qapp, "es") == "es"
    try:  # the wizard shows it in the user's language
        assert fmt.core_message(absent.value.failure) == (
            "C0:DE:00:00:00:42 ya no está al alcance. Acércate, comprueba que tenga corriente y "
            "vuelve a buscar."
        )
    finally:
        i18n.install_translator(qapp, "en")


async def test_gatt_link_refuses_a_device_without_the_provisioning_service(farm):
    app = EchoApp("ESP-A1B2C3", b"{}")
    await farm.start("C0:DE:00:A1:B2:C3", "ESP-A1B2C3", app.run)
    with pytest.raises(LinkError, match="does not offer PoolDesk provisioning") as other:
        async with open_gatt_link("C0:DE:00:A1:B2:C3"):
            pass
    assert other.value.failure == failure(Code.LINK_NOT_PROVISIONING)
