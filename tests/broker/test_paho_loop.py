"""The asyncio paho adapter (pooldesk_server/broker/paho_loop.py) on a real Mosquitto: a graceful
close really says goodbye. A client that stops on purpose (the app signing out, the backend
shutting down, a controller restarting cleanly) sends DISCONNECT, so the broker drops its will;
only a connection that is lost publishes the will ("offline" on every dashboard)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from pooldesk_server.broker.paho_loop import PahoOnLoop
from tests.support.plain_mosquitto import plain_mosquitto
from tests.support.waiting import assert_nothing_arrives, wait_until

WILL = "users/ann/devices/esp-000001/status"
WEBSOCKET_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455


async def _client(port: int, name: str, *, will: bool = False) -> PahoOnLoop:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name)
    if will:
        client.will_set(WILL, b"offline", qos=1, retain=False)
    connected = asyncio.Event()
    client.on_connect = lambda *_: connected.set()
    driver = PahoOnLoop(client)
    await driver.connect("127.0.0.1", port)
    await asyncio.wait_for(connected.wait(), 10)
    return driver


@pytest.mark.parametrize("graceful", [True, False])
async def test_a_graceful_close_sends_disconnect_and_the_broker_drops_the_will(
    tmp_path: Path, graceful: bool
) -> None:
    with plain_mosquitto(tmp_path) as port:
        heard: list[bytes] = []
        watcher = await _client(port, "watcher")
        watcher.client.on_message = lambda _c, _u, msg: heard.append(msg.payload)
        subscribed = asyncio.Event()
        watcher.client.on_subscribe = lambda *_: subscribed.set()
        watcher.client.subscribe(WILL, qos=1)
        await asyncio.wait_for(subscribed.wait(), 10)
        device = await _client(port, "device", will=True)
        try:
            await device.close(graceful=graceful, within=5.0)
            if graceful:
                assert device.socket_closed.is_set()  # closed by paho after writing DISCONNECT
                await assert_nothing_arrives(lambda: heard, 1.0, "the will")
            else:  # the twin: a connection dropped without DISCONNECT publishes the will
                await wait_until(lambda: heard == [b"offline"], what="the will")
        finally:
            await watcher.close()


async def test_a_connect_that_outlives_its_timeout_is_never_run_twice_at_once() -> None:
    """A proxy or a bad network that trickles the websocket handshake keeps paho's connect
    going long past our timeout (each read is bounded, not the whole). Starting the next
    attempt meanwhile would run two connects on one client, sharing its socket: the next one
    waits for the first to end, then the client keeps retrying."""
    opened: list[float] = []
    closed: list[float] = []

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        opened.append(time.monotonic())
        try:
            await reader.readuntil(b"\r\n\r\n")  # the client's upgrade request
            writer.write(b"HTTP/1.1 101 Switching Protocols\r\nX-Pad: ")
            for _ in range(15):  # 3 s of header, a byte every 0.2 s (each read's limit: 0.5 s)
                writer.write(b"a")
                await writer.drain()
                await asyncio.sleep(0.2)
        finally:
            closed.append(time.monotonic())
            writer.close()

    server = await asyncio.start_server(trickle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="late", transport="websockets")
    driver = PahoOnLoop(client, reconnect=(0.1, 0.2), connect_timeout=0.5)
    try:
        driver.start("127.0.0.1", port)
        await wait_until(lambda: len(opened) >= 2, within=20, what="a second attempt")
        # the first ran ~3 s, past the 1.5 s wait: the second began only after it ended
        assert closed, (opened, closed)
        assert closed[0] - opened[0] > 2.5, (opened, closed)
        assert opened[1] >= closed[0], (opened, closed)
    finally:
        await driver.close(graceful=False)
        server.close()
        await server.wait_closed()


async def test_a_connect_that_gets_through_just_after_the_wait_is_kept() -> None:
    """The handshake completes a moment after our wait gave up, while the adapter waits before
    trying again: that connection is up and is kept, not closed by a new attempt."""
    opened: list[float] = []
    ended_by_client: list[float] = []

    async def late_but_complete(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        opened.append(time.monotonic())
        request = await reader.readuntil(b"\r\n\r\n")
        key = re.search(rb"(?i)sec-websocket-key:\s*(\S+)", request)
        assert key is not None
        accept = base64.b64encode(hashlib.sha1(key.group(1) + WEBSOCKET_GUID).digest())  # noqa: S324 - the websocket handshake's own hash
        answer = (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        if len(opened) == 1:  # the first: done at ~1.7 s, past the adapter's 1.5 s wait
            writer.write(answer[:-8])
            for byte in answer[-8:]:
                await asyncio.sleep(0.21)
                writer.write(bytes([byte]))
                await writer.drain()
        else:
            writer.write(answer)
        await writer.drain()
        while await reader.read(4096):  # CONNECT and whatever follows, until the client ends
            pass
        ended_by_client.append(time.monotonic())
        writer.close()

    server = await asyncio.start_server(late_but_complete, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="late", transport="websockets")
    driver = PahoOnLoop(client, reconnect=(0.5, 1.0), connect_timeout=0.5)
    try:
        driver.start("127.0.0.1", port)
        await wait_until(lambda: opened, what="the first connection")
        await assert_nothing_arrives(
            lambda: len(opened) > 1 or ended_by_client, 4.0, "the connection dropped for another"
        )
    finally:
        await driver.close(graceful=False)
        server.close()
        await server.wait_closed()


async def test_a_broker_that_closes_every_connection_at_once_is_tried_again_and_again() -> None:
    """A broker that ends each connection as soon as it opens (it refuses the login, or it is
    shutting down): the close may come before the adapter has seen its connect succeed. It must
    try again after each, never stop trying."""
    opened: list[float] = []

    async def slam(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        opened.append(time.monotonic())
        writer.close()

    server = await asyncio.start_server(slam, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="slammed")
    driver = PahoOnLoop(client, reconnect=(0.02, 0.05), connect_timeout=2.0)
    try:
        driver.start("127.0.0.1", port)
        await wait_until(lambda: len(opened) >= 40, within=20, what="40 attempts")
        seen = len(opened)
        await wait_until(lambda: len(opened) > seen + 5, within=5, what="still trying")
    finally:
        await driver.close(graceful=False)
        server.close()
        await server.wait_closed()
