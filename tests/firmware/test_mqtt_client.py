"""fw_mqtt.Client details Mosquitto cannot be asked to show: PUBACK retry with DUP, keepalive
pings, and giving up on a silent broker. The broker here is a scripted TCP server."""

from __future__ import annotations

import asyncio

import pytest

from pooldesk_firmware.sim.loader import FirmwareImage

_firmware = FirmwareImage()  # the firmware's own modules, apart from this process's
fw_mqtt = _firmware.module("fw_mqtt")


class ScriptedBroker:
    """Accepts one client, answers CONNECT, records every packet; `ack` decides PUBACKs."""

    def __init__(self, ack=lambda first, body, n: True, answer_pings: bool = True) -> None:
        self.packets: list[tuple[int, bytes]] = []
        self.ack = ack
        self.answer_pings = answer_pings
        self.server: asyncio.Server | None = None
        self.closed = asyncio.Event()

    async def __aenter__(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            publishes = 0
            while True:
                first, body = await fw_mqtt.read_packet(reader)
                self.packets.append((first, body))
                kind = first >> 4
                if kind == fw_mqtt.CONNECT:
                    writer.write(b"\x20\x02\x00\x00")
                elif kind == fw_mqtt.PUBLISH and (first >> 1) & 3:
                    publishes += 1
                    if self.ack(first, body, publishes):
                        tlen = int.from_bytes(body[:2], "big")
                        writer.write(
                            fw_mqtt.puback_packet(int.from_bytes(body[2 + tlen : 4 + tlen], "big"))
                        )
                elif kind == fw_mqtt.PINGREQ and self.answer_pings:
                    writer.write(b"\xd0\x00")
                await writer.drain()
        except (EOFError, ConnectionError):
            pass
        finally:
            self.closed.set()
            writer.close()


async def test_an_unacknowledged_publish_is_resent_with_dup():
    broker = ScriptedBroker(ack=lambda first, body, n: n >= 2)  # the first PUBACK is "lost"
    async with broker as port:
        client = fw_mqtt.Client("127.0.0.1", port, "c1", timeout_s=0.3)
        await client.connect()
        await client.publish("a/b", b"hello", retain=True)
        pubs = [f for f, _ in broker.packets if f >> 4 == fw_mqtt.PUBLISH]
        assert pubs == [0x33, 0x3B]  # QoS 1 + retain, then the same with DUP
        assert client.connected
        await client.disconnect()


async def test_keepalive_pings_when_idle_and_gives_up_on_a_silent_broker():
    broker = ScriptedBroker(answer_pings=False)
    async with broker as port:
        closed = asyncio.Event()
        client = fw_mqtt.Client("127.0.0.1", port, "c2", keepalive=2, on_close=closed.set)
        await client.connect()
        await asyncio.wait_for(closed.wait(), 8)  # no answer for 1.5 x keepalive
        assert not client.connected
        assert any(f >> 4 == fw_mqtt.PINGREQ for f, _ in broker.packets)
        await asyncio.wait_for(broker.closed.wait(), 2)  # and the socket really closed


async def test_a_publish_that_is_never_acknowledged_drops_the_connection():
    broker = ScriptedBroker(ack=lambda first, body, n: False)
    async with broker as port:
        client = fw_mqtt.Client("127.0.0.1", port, "c3", timeout_s=0.2)
        await client.connect()
        with pytest.raises(fw_mqtt.MQTTError, match="no answer"):
            await client.publish("a/b", b"x")
        assert not client.connected
        assert len([f for f, _ in broker.packets if f >> 4 == fw_mqtt.PUBLISH]) == 3
