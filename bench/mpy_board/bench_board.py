# What the RAM bench puts in place before it measures, under the WebAssembly port:
# - the C `binascii` instead of the port's pure-Python one (the ESP32 has the C one);
# - os.urandom, which the port lacks (the ESP32 has it);
# - asyncio.open_connection onto an in-memory MQTT broker (the PyScript asyncio has no
#   streams): it answers CONNECT, SUBSCRIBE, PUBLISH (QoS 1) and PINGREQ and keeps nothing.
# - a high-water mark of the heap. This port never collects while Python code runs: a
#   collection is only marked pending and done when control is back at the top level (a JS
#   turn: an await that suspends). Between two such points gc.mem_alloc() only rises, so its
#   value just before every suspension is the most the heap held since the last collection,
#   garbage included: an upper bound of the peak (the ESP32 collects mid-burst, and needs less).
#   Every sample asks for a collection, so each suspension starts from the live heap.
# Everything here is imported before the baseline, so it is not counted as the firmware's.
import gc
import os
import random
import sys

import benchclient

import asyncio
import ubinascii

sys.modules["binascii"] = ubinascii

import bluetooth  # noqa: F401 - the stand-ins, loaded before the baseline
import cryptolib  # noqa: F401
import ds18x20  # noqa: F401
import hashlib  # noqa: F401
import json  # noqa: F401
import machine  # noqa: F401
import network  # noqa: F401
import ntptime  # noqa: F401
import onewire  # noqa: F401


def _urandom(n):
    return bytes([random.getrandbits(8) for _ in range(n)])


os.urandom = _urandom
published = [0]


class _BrokerStream:
    """The client's reader and writer at once; the broker's answers queue in `_in`."""

    def __init__(self):
        self._in = bytearray()
        self._out = bytearray()
        self._ready = asyncio.Event()
        self._closed = False

    async def readexactly(self, n):
        while len(self._in) < n:
            if self._closed:
                raise EOFError("closed")
            self._ready.clear()
            await self._ready.wait()
        data = bytes(self._in[:n])
        self._in[:n] = b""
        return data

    def write(self, data):
        self._out.extend(data)
        while True:
            packet = self._take()
            if packet is None:
                return
            self._answer(packet[0], packet[1])

    def _take(self):
        buf = self._out
        if len(buf) < 2:
            return None
        n, mult, i = 0, 1, 1
        while True:
            if i >= len(buf):
                return None
            b = buf[i]
            n += (b & 0x7F) * mult
            mult *= 128
            i += 1
            if not b & 0x80:
                break
        if len(buf) < i + n:
            return None
        first, body = buf[0], bytes(buf[i : i + n])
        self._out[: i + n] = b""
        return first, body

    def _answer(self, first, body):
        kind = first >> 4
        if kind == 1:  # CONNECT
            self._in.extend(b"\x20\x02\x00\x00")
        elif kind == 8:  # SUBSCRIBE: grant QoS 1 to each topic
            count = 0
            at = 2
            while at < len(body):
                at += 2 + int.from_bytes(body[at : at + 2], "big") + 1
                count += 1
            self._in.extend(bytes([0x90, 2 + count]) + body[:2] + b"\x01" * count)
        elif kind == 3:  # PUBLISH
            published[0] += 1
            if (first >> 1) & 3:
                tlen = int.from_bytes(body[:2], "big")
                self._in.extend(b"\x40\x02" + body[2 + tlen : 4 + tlen])
        elif kind == 12:  # PINGREQ
            self._in.extend(b"\xd0\x00")
        elif kind == 14:  # DISCONNECT
            self._closed = True
        self._ready.set()

    async def drain(self):
        pass

    def close(self):
        self._closed = True
        self._ready.set()

    async def wait_closed(self):
        pass

    def get_extra_info(self, name):
        return None


async def open_connection(host, port, ssl=None, server_hostname=None):
    stream = _BrokerStream()
    return stream, stream


asyncio.open_connection = open_connection


high = [0]


def sample():
    """Note the heap now, then ask for a collection: it runs at the next suspension."""
    a = gc.mem_alloc()
    if a > high[0]:
        high[0] = a
    gc.collect()


_sleep = asyncio.sleep
_sleep_ms = asyncio.sleep_ms
_event_wait = asyncio.Event.wait


def _js_turn():
    """A promise resolved by a JS timer: awaiting it returns to the JS loop, where the
    pending collection runs (the PyScript asyncio may run many task steps in one JS turn).
    Made on the JS side (bench/firmware_ram.mjs), which also frees the proxies it leaves."""
    return benchclient.turn()


async def _sampled_sleep(t):
    sample()
    await _js_turn()
    return await _sleep(t)


async def _sampled_sleep_ms(t):
    sample()
    await _js_turn()
    return await _sleep_ms(t)


async def _sampled_wait(self):
    sample()
    await _js_turn()
    return await _event_wait(self)


asyncio.sleep = _sampled_sleep
asyncio.sleep_ms = _sampled_sleep_ms
asyncio.Event.wait = _sampled_wait
