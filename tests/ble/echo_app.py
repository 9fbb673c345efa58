"""A small GATT app written against MicroPython's ``bluetooth`` module, run by the tests on
simulated controllers.

It plays the role of firmware (the stand-in holds none): one service whose endpoints are
characteristics named by 0x2901 descriptors, as the provisioning service is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tests.ble.gatt_app import (
    DESC_READ,
    FLAG_NOTIFY,
    FLAG_READ,
    FLAG_WRITE,
    FLAG_WRITE_NO_RESPONSE,
    IRQ_CENTRAL_CONNECT,
    IRQ_CENTRAL_DISCONNECT,
    IRQ_GATTS_WRITE,
    IRQ_MTU_EXCHANGED,
    USER_DESCRIPTION,
    Inbox,
    bluetooth,
    payloads,
)

SERVICE_UUID = "5f0c0001-8d6b-4c5e-9a3e-6f7a1b2c3d4e"
INFO_UUID = "5f0c0002-8d6b-4c5e-9a3e-6f7a1b2c3d4e"
COMMAND_UUID = "5f0c0003-8d6b-4c5e-9a3e-6f7a1b2c3d4e"
EVENTS_UUID = "5f0c0004-8d6b-4c5e-9a3e-6f7a1b2c3d4e"
LARGE_UUID = "5f0c0005-8d6b-4c5e-9a3e-6f7a1b2c3d4e"
COMPANY_ID = 0xFFFF  # "no company": for tests and prototypes


def _named(uuid: str, flags: int) -> tuple:
    return (bluetooth.UUID(uuid), flags, ((USER_DESCRIPTION, DESC_READ),))


@dataclass
class EchoApp:
    """Writes to ``command`` are recorded and echoed back as notifications on ``events``.

    Commands: ``b"drop"`` makes the device end the connection; ``b"silence"`` makes it stop
    answering (no notification) so a client's wait can time out.
    """

    name: str
    device_info: bytes
    received: list[bytes] = field(default_factory=list)
    connections: int = 0
    mtus: list[int] = field(default_factory=list)

    async def run(self) -> None:
        ble = bluetooth.BLE()
        inbox = Inbox(ble)
        ble.active(True)
        ble.config(gap_name=self.name)
        service = (
            bluetooth.UUID(SERVICE_UUID),
            (
                _named(INFO_UUID, FLAG_READ),
                _named(COMMAND_UUID, FLAG_WRITE | FLAG_WRITE_NO_RESPONSE),
                _named(EVENTS_UUID, FLAG_READ | FLAG_NOTIFY),
                _named(LARGE_UUID, FLAG_READ | FLAG_WRITE),
            ),
        )
        ((info, info_name, command, command_name, events, events_name, large, large_name),) = (
            ble.gatts_register_services((service,))
        )
        for handle, name in (
            (info_name, b"device-info"),
            (command_name, b"command"),
            (events_name, b"events"),
            (large_name, b"large"),
        ):
            ble.gatts_write(handle, name)
        ble.gatts_write(info, self.device_info)
        ble.gatts_set_buffer(large, 512)  # command keeps the default 20-byte buffer
        adv, resp = payloads(self.name, [SERVICE_UUID], (COMPANY_ID, self.name.encode()[-6:]))
        mtu = 23
        while True:
            ble.gap_advertise(250_000, adv, resp_data=resp)
            _, (conn, _, _) = await inbox.next(IRQ_CENTRAL_CONNECT)
            self.connections += 1
            while True:
                event, data = await inbox.next(
                    IRQ_GATTS_WRITE, IRQ_CENTRAL_DISCONNECT, IRQ_MTU_EXCHANGED
                )
                if event == IRQ_CENTRAL_DISCONNECT:
                    mtu = 23
                    break
                if event == IRQ_MTU_EXCHANGED:
                    mtu = data[1]
                    continue
                _, handle, value = data
                self.received.append(value)
                if handle != command:
                    continue
                self.mtus.append(mtu)
                if value == b"drop":
                    ble.gap_disconnect(conn)
                elif value != b"silence":
                    ble.gatts_notify(conn, events, b"echo:" + value)
