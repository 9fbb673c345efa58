"""The central's side of `pooldesk_firmware/sim/mpy/bluetooth.py`: a TCP server the MicroPython
firmware's radio connects to (PD_BLE=127.0.0.1:<port>), and a `GattLink` over it, so the app's
real provisioning client can provision firmware running under the real interpreter.

It plays the central and the air between: it connects while the device advertises, exchanges
the MTU, finds endpoints by their 0x2901 names like the bleak link, writes with response (the
device answers every write) and hands notifications over in order.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from pooldesk.core.failures import Code, failure
from pooldesk.provisioning import SERVICE_UUID, LinkError

USER_DESCRIPTION = "0129"  # 0x2901 little endian, as the device reports UUIDs


def _le_hex(uuid: str) -> str:
    return bytes(reversed(bytes.fromhex(uuid.replace("-", "")))).hex()


class BleBridge:
    """One device's radio, seen from the central. Use as ``async with BleBridge() as bridge``
    and give the device ``PD_BLE=bridge.address``."""

    def __init__(self) -> None:
        self.port = 0
        self.active = False
        self.gap_name: str | None = None
        self.advertisement: tuple[bytes, bytes] | None = None
        self.db: list = []
        self.conn: int | None = None
        self.mtu = 23
        self.history: list[dict] = []  # everything the device said, oldest first
        self._server: asyncio.Server | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self._replies: dict[int, asyncio.Future[dict]] = {}
        self._next_id = 0
        self._pending: asyncio.Future[dict] | None = None
        self._subscribers: dict[int, Callable[[bytes], None]] = {}
        self.device_seen = asyncio.Event()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def __aenter__(self) -> BleBridge:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._reader_task is not None:
            self._reader_task.cancel()
            await asyncio.gather(self._reader_task, return_exceptions=True)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._writer is not None:  # one radio per bridge
            writer.close()
            return
        self._writer = writer
        self.device_seen.set()
        self._reader_task = asyncio.current_task()
        try:
            while line := await reader.readline():
                self._on_device(json.loads(line))
        finally:
            self.active = False
            self._lost()

    # -- what the device says --------------------------------------------------------------
    def _on_device(self, msg: dict) -> None:
        self.history.append(msg)
        op = msg["op"]
        if op == "active":
            self.active = msg["on"]
            if not self.active:
                self.advertisement = None
                self._lost()
        elif op == "gap_name":
            self.gap_name = msg["name"]
        elif op == "services":
            self.db = msg["db"]
        elif op == "adv":
            adv = msg["adv"]
            self.advertisement = (
                None if adv is None else (bytes.fromhex(adv), bytes.fromhex(msg["resp"]))
            )
        elif op in ("connected", "refused", "mtu") and self._pending is not None:
            pending, self._pending = self._pending, None
            if not pending.done():
                pending.set_result(msg)
        elif op == "disconnected" and msg["conn"] == self.conn:
            self._lost()
        elif op == "notify" and msg["conn"] == self.conn:
            callback = self._subscribers.get(msg["handle"])
            if callback is not None:
                callback(bytes.fromhex(msg["data"]))
        elif op == "reply":
            future = self._replies.pop(msg["id"], None)
            if future is not None and not future.done():
                future.set_result(msg)
        self._changed.set()

    def _lost(self) -> None:
        self.conn = None
        self.mtu = 23
        self._subscribers.clear()
        for future in self._replies.values():
            if not future.done():
                future.set_exception(LinkError(failure(Code.LINK_NOT_CONNECTED)))
        self._replies.clear()
        self.on_lost()

    def on_lost(self) -> None:
        """Called when the link drops (the device hung up or switched its radio off)."""

    async def wait_until(self, predicate: Callable[[], bool], within: float) -> None:
        async with asyncio.timeout(within):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    # -- what the central does -------------------------------------------------------------
    def _send(self, msg: dict) -> None:
        if self._writer is None:
            raise LinkError("the device's radio is not connected to the bridge")
        self._writer.write((json.dumps(msg) + "\n").encode())

    async def connect(self, mtu: int | None = 256, within: float = 5.0) -> int:
        """Connect while the device advertises, then exchange MTUs (unless `mtu` is None:
        the link stays at 23)."""
        loop = asyncio.get_running_loop()
        self._pending = loop.create_future()
        self._send({"op": "connect", "addr": "c0de00000001"})
        answer = await asyncio.wait_for(self._pending, within)
        if answer["op"] != "connected":
            raise LinkError("the device is not advertising")
        self.conn = answer["conn"]
        if mtu is None:
            return self.conn
        self._pending = loop.create_future()
        self._send({"op": "mtu", "conn": self.conn, "mtu": mtu})
        self.mtu = (await asyncio.wait_for(self._pending, within))["mtu"]
        return self.conn

    def disconnect(self) -> None:
        if self.conn is not None:
            self._send({"op": "disconnect", "conn": self.conn})

    async def _request(
        self, op: str, handle: int, data: bytes | None, within: float, endpoint: str = ""
    ) -> dict:
        if self.conn is None:
            raise LinkError(failure(Code.LINK_NOT_CONNECTED))
        self._next_id += 1
        request = {"op": op, "conn": self.conn, "handle": handle, "id": self._next_id}
        if data is not None:
            request["data"] = data.hex()
        future = asyncio.get_running_loop().create_future()
        self._replies[self._next_id] = future
        self._send(request)
        answer = await asyncio.wait_for(future, within)
        if answer["err"]:
            detail = f"ATT error {answer['err']}"
            where = endpoint or f"handle {handle}"
            raise LinkError(failure(Code.LINK_GATT_REFUSED, endpoint=where, detail=detail))
        return answer

    async def read(self, handle: int, within: float = 5.0, endpoint: str = "") -> bytes:
        answer = await self._request("read", handle, None, within, endpoint)
        return bytes.fromhex(answer["data"])

    async def write(
        self, handle: int, data: bytes, within: float = 5.0, endpoint: str = ""
    ) -> None:
        await self._request("write", handle, data, within, endpoint)

    def subscribe(self, handle: int, callback: Callable[[bytes], None]) -> None:
        self._subscribers[handle] = callback


class BridgeGattLink:
    """`pooldesk.provisioning.GattLink` over a connected bridge, endpoints found by name."""

    def __init__(self, bridge: BleBridge, endpoints: dict[str, int]) -> None:
        self.bridge = bridge
        self.endpoints = endpoints

    @classmethod
    async def open(cls, bridge: BleBridge) -> BridgeGattLink:
        service = _le_hex(SERVICE_UUID)
        endpoints: dict[str, int] = {}
        for uuid, attributes in bridge.db:
            if uuid != service:
                continue
            value_handle = None
            for handle, attr_uuid, _flags, kind in attributes:
                if kind == "char":
                    value_handle = handle
                elif attr_uuid == USER_DESCRIPTION and value_handle is not None:
                    name = (await bridge.read(handle)).decode()
                    endpoints[name] = value_handle
        if not endpoints:
            raise LinkError(failure(Code.LINK_NOT_PROVISIONING))
        return cls(bridge, endpoints)

    @property
    def mtu(self) -> int:
        return self.bridge.mtu

    def _handle(self, endpoint: str) -> int:
        try:
            return self.endpoints[endpoint]
        except KeyError:
            known = ", ".join(sorted(self.endpoints)) or "none"
            no_endpoint = failure(Code.LINK_NO_ENDPOINT, endpoint=endpoint, known=known)
            raise LinkError(no_endpoint) from None

    async def read(self, endpoint: str) -> bytes:
        return await self.bridge.read(self._handle(endpoint), endpoint=endpoint)

    async def write(self, endpoint: str, data: bytes) -> None:
        if len(data) > self.mtu - 3:
            too_big = failure(
                Code.LINK_WRITE_TOO_BIG, size=len(data), endpoint=endpoint, limit=self.mtu - 3
            )
            raise LinkError(too_big)
        await self.bridge.write(self._handle(endpoint), data, endpoint=endpoint)

    async def subscribe(self, endpoint: str, callback: Callable[[bytes], Any]) -> None:
        handle = self._handle(endpoint)
        loop = asyncio.get_running_loop()
        self.bridge.subscribe(handle, lambda value: loop.call_soon(callback, value))
