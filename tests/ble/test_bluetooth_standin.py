"""The ``bluetooth`` stand-in behaves as MicroPython's module does on an ESP32 (NimBLE), seen
from a bleak central on Bumble's virtual radio: never kinder than the board."""

from __future__ import annotations

import asyncio
import errno
from typing import Any

import pytest
from bleak import BleakClient, BleakScanner

from pooldesk.ble.bumble_backend import BumbleClient, BumbleScanner
from pooldesk_firmware.sim.blectx import PERIPHERAL
from tests.ble.gatt_app import (
    DESC_READ,
    FLAG_NOTIFY,
    FLAG_READ,
    FLAG_WRITE,
    IRQ_CENTRAL_CONNECT,
    IRQ_CENTRAL_DISCONNECT,
    IRQ_GATTS_WRITE,
    IRQ_MTU_EXCHANGED,
    USER_DESCRIPTION,
    Inbox,
    bluetooth,
    payloads,
)
from tests.support.waiting import assert_nothing_arrives

SERVICE = "3c1d0001-7f5e-4b8a-a1c2-0d9e8f7a6b5c"
INBOX = "3c1d0002-7f5e-4b8a-a1c2-0d9e8f7a6b5c"
OUTBOX = "3c1d0003-7f5e-4b8a-a1c2-0d9e8f7a6b5c"
LOG = "3c1d0004-7f5e-4b8a-a1c2-0d9e8f7a6b5c"
ADDRESS = "C0:DE:00:00:AA:01"
GAP_NAME = "00002a00-0000-1000-8000-00805f9b34fb"
ADV, RESP = payloads("REC", [SERVICE])


class Board:
    """A radio switched on by a firmware task; the test then calls the module's API itself."""

    def __init__(self) -> None:
        self.ble: Any = None
        self.inbox: Inbox | None = None
        self.handles: tuple = ()
        self.ready = asyncio.Event()
        self.raw: list[tuple[int, Any]] = []

    async def run(self) -> None:
        self.ble = bluetooth.BLE()
        assert bluetooth.BLE() is self.ble  # one object per radio
        self.inbox = Inbox(self.ble)
        handler = self.inbox.handler

        def keep_raw(event: int, data: tuple) -> None:
            self.raw.append((event, data))  # what a careless handler keeps
            handler(event, data)

        self.ble.irq(keep_raw)
        assert self.ble.active() is False  # off after boot
        self.ble.active(True)
        service = (
            bluetooth.UUID(SERVICE),
            (
                (bluetooth.UUID(INBOX), FLAG_WRITE),
                (bluetooth.UUID(OUTBOX), FLAG_READ | FLAG_NOTIFY),
                # FLAG_READ (0x02) as a descriptor flag is ATT *write* permission on NimBLE
                (bluetooth.UUID(LOG), FLAG_WRITE, ((USER_DESCRIPTION, FLAG_READ),)),
            ),
        )
        ((self.inbox_h, self.outbox_h, self.log_h, self.log_name_h),) = (
            self.ble.gatts_register_services((service,))
        )
        self.ble.gap_advertise(20_000, ADV, resp_data=RESP)
        self.ready.set()
        await asyncio.Event().wait()


async def start(farm) -> Board:
    board = Board()
    await farm.start(ADDRESS, "boot-name", board.run)
    await board.ready.wait()
    return board


async def test_irqs_arrive_later_in_order_with_copied_values_and_cut_writes(farm):
    board = await start(farm)
    async with BleakClient(ADDRESS, backend=BumbleClient, mtu=100) as client:
        await client.write_gatt_char(INBOX, b"0123456789abcdefghijKLMNOP", response=True)
        board.ble.gatts_set_buffer(board.inbox_h, 64, True)  # append mode: writes add up
        await client.write_gatt_char(INBOX, b"one,", response=True)
        await client.write_gatt_char(INBOX, b"two", response=True)
        async with asyncio.timeout(2):
            _, first = await board.inbox.next(IRQ_GATTS_WRITE)
            _, second = await board.inbox.next(IRQ_GATTS_WRITE)
        # a value buffer holds 20 bytes until gatts_set_buffer: the rest is lost, as on the board
        assert first[2] == b"0123456789abcdefghij"
        assert second[2] == b"one,"  # gatts_read in append mode empties the buffer
        async with asyncio.timeout(2):
            _, third = await board.inbox.next(IRQ_GATTS_WRITE)
        assert third[2] == b"two"
        board.ble.gap_disconnect(first[0])
        # not inside the call: the IRQ comes later
        assert IRQ_CENTRAL_DISCONNECT not in [event for event, _ in board.inbox.events]
        async with asyncio.timeout(2):
            _, gone = await board.inbox.next(IRQ_CENTRAL_DISCONNECT)
    kinds = [event for event, _ in board.raw]
    assert kinds[0] == IRQ_CENTRAL_CONNECT
    assert kinds[1] == IRQ_MTU_EXCHANGED
    assert board.raw[1][1][1] == 100
    connect = board.raw[0][1]
    assert connect[0] == gone[0]
    assert connect[1] == bluetooth.ADDR_RANDOM
    assert isinstance(connect[2], memoryview)  # only valid inside the handler
    assert bytes(connect[2]) == gone[2]  # the same buffer, overwritten by the next event


async def test_notify_cut_to_the_mtu_runs_out_of_buffers_and_needs_a_connection(farm):
    board = await start(farm)
    got: list[bytes] = []
    async with BleakClient(ADDRESS, backend=BumbleClient, mtu=40) as client:
        await client.start_notify(OUTBOX, lambda _, data: got.append(bytes(data)))
        async with asyncio.timeout(2):
            _, (conn, _, _) = await board.inbox.next(IRQ_CENTRAL_CONNECT)
            await board.inbox.next(IRQ_MTU_EXCHANGED)
        board.ble.gatts_notify(conn, board.outbox_h, bytes(range(60)))
        with pytest.raises(OSError) as full:  # noqa: PT012 - the burst is what fails
            for _ in range(1000):  # a burst without yielding: the stack runs out of buffers
                board.ble.gatts_notify(conn, board.outbox_h, b"x" * 30)
        assert full.value.errno == errno.ENOMEM
        await asyncio.sleep(0.05)  # the controller sends meanwhile
        board.ble.gatts_write(board.outbox_h, b"local value", True)  # to subscribers
        await asyncio.sleep(0.05)
        assert await client.read_gatt_char(OUTBOX) == bytearray(b"local value")
        with pytest.raises(OSError) as stranger:
            board.ble.gatts_notify(conn + 7, board.outbox_h, b"?")
        assert stranger.value.errno == errno.ENOTCONN
    assert got[0] == bytes(range(37))  # MTU 40 - 3
    assert got[-1] == b"local value"
    assert len(got) > 10


async def test_descriptor_flags_are_att_permissions_and_attribute_errors(farm):
    board = await start(farm)
    board.ble.gatts_write(board.log_name_h, b"log")
    async with BleakClient(ADDRESS, backend=BumbleClient) as client:
        log = client.services.get_characteristic(LOG)
        descriptor = log.get_descriptor("00002901-0000-1000-8000-00805f9b34fb")
        with pytest.raises(Exception, match="Read Not Permitted"):
            await client.read_gatt_descriptor(descriptor)
        with pytest.raises(Exception, match="Read Not Permitted"):
            await client.read_gatt_char(INBOX)
        with pytest.raises(Exception, match="Write Not Permitted"):
            await client.write_gatt_char(OUTBOX, b"no", response=True)


async def test_gap_name_mac_and_mtu_config(farm):
    board = await start(farm)
    ble = board.ble
    assert ble.config("gap_name") == b"MPY ESP32"  # what active(True) sets, whatever before
    assert ble.config("mtu") == 256
    addr_type, mac = ble.config("mac")
    assert (addr_type, mac) == (bluetooth.ADDR_RANDOM, bytes.fromhex("C0DE0000AA01"))
    async with BleakClient(ADDRESS, backend=BumbleClient) as client:
        assert await client.read_gatt_char(GAP_NAME) == bytearray(b"MPY ESP32")
        ble.config(gap_name="ESP-00AA01")
        assert await client.read_gatt_char(GAP_NAME) == bytearray(b"ESP-00AA01")
        assert ble.config("gap_name") == b"ESP-00AA01"
    with pytest.raises(OSError):
        ble.config(mtu=22)


async def test_register_refused_while_advertising_and_payloads_limited(farm):
    board = await start(farm)
    ble = board.ble
    with pytest.raises(OSError) as busy:
        ble.gatts_register_services(((bluetooth.UUID(SERVICE), ()),))
    assert busy.value.errno == errno.EBUSY
    with pytest.raises(OSError) as long:
        ble.gap_advertise(20_000, ADV + b"\x00" * 20)
    assert long.value.errno == errno.EINVAL
    ble.gap_advertise(None)
    ble.gatts_register_services(((bluetooth.UUID(SERVICE), ()),))
    await asyncio.sleep(0.1)
    found = await BleakScanner.discover(0.2, backend=BumbleScanner)
    assert ADDRESS not in [d.address for d in found]


async def test_active_false_drops_the_central_without_an_irq_and_stops_everything(farm):
    board = await start(farm)
    ble = board.ble
    lost = asyncio.Event()
    client = BleakClient(ADDRESS, lambda _: lost.set(), backend=BumbleClient)
    await client.connect()
    async with asyncio.timeout(2):
        _, (conn, _, _) = await board.inbox.next(IRQ_CENTRAL_CONNECT)
    assert ble.active(False) is False
    async with asyncio.timeout(2):
        await lost.wait()
    # switched off, the board is told nothing more: an absence, watched for a window
    await assert_nothing_arrives(
        lambda: [e for e, _ in board.inbox.events if e == IRQ_CENTRAL_DISCONNECT],
        0.3,
        "a disconnect event",
    )
    for call in (
        lambda: ble.gatts_notify(conn, board.outbox_h, b"x"),
        lambda: ble.gatts_read(board.inbox_h),
        lambda: ble.gap_advertise(20_000, ADV),
        lambda: ble.config("mac"),
    ):
        with pytest.raises(OSError) as off:
            call()
        assert off.value.errno == errno.ENODEV
    found = await BleakScanner.discover(0.2, backend=BumbleScanner)
    assert ADDRESS not in [d.address for d in found]
    await client.disconnect()

    # Back on: services are gone until registered again, the name is the default again.
    ble.active(True)
    with pytest.raises(OSError):
        ble.gatts_read(board.inbox_h)
    assert ble.config("gap_name") == b"MPY ESP32"


async def test_stand_in_outside_a_simulated_controller_says_what_is_missing():
    assert PERIPHERAL.get(None) is None
    with pytest.raises(OSError, match=r"must set pooldesk_firmware.sim.blectx.PERIPHERAL"):
        bluetooth.BLE()


def test_uuid_stand_in_matches_micropython():
    assert bytes(bluetooth.UUID(0x2901)) == b"\x01\x29"
    assert bluetooth.UUID("2901") == bluetooth.UUID(0x2901)
    long = bluetooth.UUID(SERVICE)
    assert bytes(long) == bytes(reversed(bytes.fromhex(SERVICE.replace("-", ""))))
    assert repr(long) == f"UUID('{SERVICE}')"
    with pytest.raises(ValueError):
        bluetooth.UUID("not-a-uuid")


async def test_descriptor_read_flag_is_bit_zero(farm):
    async def app() -> None:
        ble = bluetooth.BLE()
        ble.active(True)
        service = (
            bluetooth.UUID(SERVICE),
            ((bluetooth.UUID(INBOX), FLAG_WRITE, ((USER_DESCRIPTION, DESC_READ),)),),
        )
        ((_, name),) = ble.gatts_register_services((service,))
        ble.gatts_write(name, b"inbox")
        ble.gap_advertise(20_000, ADV, resp_data=RESP)
        await asyncio.Event().wait()

    await farm.start(ADDRESS, "X", app)
    async with BleakClient(ADDRESS, backend=BumbleClient) as client:
        descriptor = client.services.get_characteristic(INBOX).get_descriptor(
            "00002901-0000-1000-8000-00805f9b34fb"
        )
        assert await client.read_gatt_descriptor(descriptor) == bytearray(b"inbox")
