"""The asyncio paho adapter (pooldesk_server/broker/paho_loop.py) on a real Mosquitto: a graceful
close really says goodbye. A client that stops on purpose (the app signing out, the backend
shutting down, a controller restarting cleanly) sends DISCONNECT, so the broker drops its will;
only a connection that is lost publishes the will ("offline" on every dashboard)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from pooldesk_server.broker.paho_loop import PahoOnLoop
from tests.support.plain_mosquitto import plain_mosquitto
from tests.support.waiting import assert_nothing_arrives, wait_until

WILL = "users/ann/devices/esp-000001/status"


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
