# Stand-in for the ESP32 port's `bluetooth` module (peripheral role) under the MicroPython Unix
# port. The radio's far side is a test in CPython: the stand-in connects to the TCP address in
# PD_BLE ("127.0.0.1:port") on the first active(True) and speaks JSON lines with it
# (tests/support/ble_bridge.py is the other end). No firmware logic lives here.
#
# Behaves as the board is documented to, never kinder:
# - inactive after boot; active(True) resets the GAP name to "MPY ESP32" and the preferred MTU
#   to 256; active(False) drops every central without an IRQ and stops advertising; the other
#   calls raise OSError(ENODEV) while inactive;
# - IRQs are queued (a 128-byte ring like the ESP32's; the oldest are dropped when it is full)
#   and delivered by one micropython.schedule() callback, i.e. between bytecodes of whatever
#   runs; the addr in connect/disconnect data is a memoryview of a buffer the next event reuses;
# - value buffers hold 20 bytes until gatts_set_buffer()/gatts_write() makes them larger; a
#   longer write from the central is cut; descriptor flags are ATT permissions (read 1, write 2);
# - gatts_notify sends whether or not the central subscribed, cut to MTU - 3, and raises
#   OSError(ENOMEM) while more than TX_POOL_BYTES wait to be sent (they leave as the loop runs);
# - gap_advertise: payloads of at most 31 bytes (EINVAL); None keeps the previous payload; a
#   connecting central stops advertising; gatts_register_services refuses while advertising or
#   connected (EBUSY).
#
# Wire format, one JSON object per line. Peer -> device: {"op": "connect", "addr": hex} |
# {"op": "disconnect", "conn": c} | {"op": "mtu", "conn": c, "mtu": n} |
# {"op": "write", "conn": c, "handle": h, "data": hex, "id": n} |
# {"op": "read", "conn": c, "handle": h, "id": n}.
# Device -> peer: {"op": "active", "on": bool} | {"op": "gap_name", "name": s} |
# {"op": "services", "db": [[uuid hex (LE), [[handle, uuid hex, flags, kind], ...]], ...]} |
# {"op": "adv", "adv": hex | null, "resp": hex, "connectable": bool} (null: stopped) |
# {"op": "connected", "conn": c} | {"op": "refused"} | {"op": "mtu", "conn": c, "mtu": n} |
# {"op": "disconnected", "conn": c} | {"op": "notify", "conn": c, "handle": h, "data": hex} |
# {"op": "reply", "id": n, "err": code, "data": hex}.

import asyncio
import binascii
import errno
import json
import os
import socket

import micropython

FLAG_READ = 0x0002
FLAG_WRITE_NO_RESPONSE = 0x0004
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
FLAG_INDICATE = 0x0020
ADDR_PUBLIC = 0
ADDR_RANDOM = 1

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_MTU_EXCHANGED = 21
_DESC_READ = 0x0001
_DESC_WRITE = 0x0002
_ATT_READ_NOT_PERMITTED = 0x02
_ATT_WRITE_NOT_PERMITTED = 0x03
_ATT_INVALID_HANDLE = 0x01
_EBUSY = getattr(errno, "EBUSY", 16)

DEFAULT_GAP_NAME = "MPY ESP32"
DEFAULT_MTU = 256
DEFAULT_BUFFER_SIZE = 20
MAX_ADV_PAYLOAD = 31
RING_BYTES = 128  # the ESP32 port's IRQ ring buffer
TX_POOL_BYTES = 12 * 256
_FIRST_HANDLE = 10  # after the GAP and GATT services
_MAC = b"\x24\x0a\xc4\x00\x00\x01"


def _hex(data):
    return binascii.hexlify(data).decode()


class UUID:
    def __init__(self, value):
        if isinstance(value, UUID):
            self._b = value._b
        elif isinstance(value, int):
            if not 0 <= value <= 0xFFFF:
                raise ValueError("invalid UUID")
            self._b = bytes((value & 0xFF, value >> 8))
        elif isinstance(value, (bytes, bytearray)):
            if len(value) not in (2, 4, 16):
                raise ValueError("invalid UUID")
            self._b = bytes(value)
        elif isinstance(value, str):
            text = value.replace("-", "")
            try:
                raw = binascii.unhexlify(text)
            except ValueError:
                raise ValueError("invalid UUID") from None
            if len(raw) not in (2, 16):
                raise ValueError("invalid UUID")
            self._b = bytes(reversed(raw))
        else:
            raise TypeError("UUID")

    def __bytes__(self):
        return self._b

    # bytes(uuid): the board's UUID has the buffer protocol; a Python class gets there by
    # iteration (MicroPython's bytes() does not call __bytes__)
    def __iter__(self):
        return iter(self._b)

    def __len__(self):
        return len(self._b)

    def __eq__(self, other):
        return isinstance(other, UUID) and other._b == self._b

    def __hash__(self):
        return hash(self._b)

    def __repr__(self):
        return "UUID(%s)" % _hex(bytes(reversed(self._b)))


class _Value:
    def __init__(self, readable, writable):
        self.data = b""
        self.size = DEFAULT_BUFFER_SIZE
        self.append = False
        self.readable = readable
        self.writable = writable


_ble = None


class _BLE:
    def __init__(self):
        self._active = False
        self._handler = None
        self._values = {}
        self._conns = {}  # conn handle -> mtu
        self._next_conn = 0
        self._advertising = False
        self._adv = b""
        self._resp = b""
        self._name = DEFAULT_GAP_NAME
        self._mtu = DEFAULT_MTU
        self._ring = []
        self._ring_bytes = 0
        self._scheduled = False
        self._addr = bytearray(6)
        self._sock = None
        self._stream = None
        self._out = []
        self._out_bytes = 0
        self._out_flag = asyncio.ThreadSafeFlag()
        self.dropped = 0

    # -- the wire ----------------------------------------------------------------------------
    def _link(self):
        if self._sock is not None:
            return
        where = os.getenv("PD_BLE") or ""
        if ":" not in where:
            raise OSError(errno.ENODEV, "no Bluetooth peer: set PD_BLE=host:port")
        host, port = where.rsplit(":", 1)
        sock = socket.socket()
        sock.connect(socket.getaddrinfo(host, int(port))[0][-1])
        sock.setblocking(False)
        self._sock = sock
        self._stream = asyncio.StreamReader(sock)
        asyncio.create_task(self._reader())
        asyncio.create_task(self._writer())

    def _send(self, obj, size=0):
        self._out.append((json.dumps(obj) + "\n", size))
        self._out_bytes += size
        self._out_flag.set()

    async def _writer(self):
        while True:
            await self._out_flag.wait()
            while self._out:
                line, size = self._out.pop(0)
                self._stream.write(line)
                await self._stream.drain()
                self._out_bytes -= size

    async def _reader(self):
        while True:
            line = await self._stream.readline()
            if not line:
                return  # the peer went away
            self._on_peer(json.loads(line))

    # -- the central's side ------------------------------------------------------------------
    def _on_peer(self, msg):
        op = msg["op"]
        if op == "connect":
            if not (self._active and self._advertising):
                self._send({"op": "refused"})
                return
            self._advertising = False  # the controller stops advertising on a connection
            self._next_conn += 1
            conn = self._next_conn
            self._conns[conn] = 23
            self._send({"op": "connected", "conn": conn})
            addr = binascii.unhexlify(msg.get("addr", "c0de00000001"))
            self._irq(_IRQ_CENTRAL_CONNECT, (conn, ADDR_RANDOM, addr), 10)
            return
        conn = msg.get("conn")
        if conn not in self._conns:
            if "id" in msg:
                self._send({"op": "reply", "id": msg["id"], "err": -1})
            return
        if op == "disconnect":
            self._drop(conn)
        elif op == "mtu":
            mtu = max(23, min(self._mtu, int(msg["mtu"])))
            self._conns[conn] = mtu
            self._send({"op": "mtu", "conn": conn, "mtu": mtu})
            self._irq(_IRQ_MTU_EXCHANGED, (conn, mtu), 5)
        elif op == "write":
            self._send({"op": "reply", "id": msg["id"], "err": self._write(conn, msg)})
        elif op == "read":
            value = self._values.get(msg["handle"])
            if value is None:
                self._send({"op": "reply", "id": msg["id"], "err": _ATT_INVALID_HANDLE})
            elif not value.readable:
                self._send({"op": "reply", "id": msg["id"], "err": _ATT_READ_NOT_PERMITTED})
            else:
                self._send({"op": "reply", "id": msg["id"], "err": 0, "data": _hex(value.data)})

    def _write(self, conn, msg):
        handle = msg["handle"]
        value = self._values.get(handle)
        if value is None:
            return _ATT_INVALID_HANDLE
        if not value.writable:
            return _ATT_WRITE_NOT_PERMITTED
        incoming = binascii.unhexlify(msg["data"])
        keep = value.data if value.append else b""
        value.data = (keep + incoming)[: value.size]
        self._irq(_IRQ_GATTS_WRITE, (conn, handle), 5)
        return 0

    def _drop(self, conn):
        if self._conns.pop(conn, None) is not None:
            self._send({"op": "disconnected", "conn": conn})
            self._irq(_IRQ_CENTRAL_DISCONNECT, (conn, ADDR_RANDOM, b"\xc0\xde\x00\x00\x00\x01"), 10)

    # -- IRQs: a ring, drained by one scheduled callback --------------------------------------
    def _irq(self, event, data, size):
        if self._handler is None or not self._active:
            return
        while self._ring and self._ring_bytes + size > RING_BYTES:
            _, _, old = self._ring.pop(0)
            self._ring_bytes -= old
            self.dropped += 1
        self._ring.append((event, data, size))
        self._ring_bytes += size
        if not self._scheduled:
            self._scheduled = True
            micropython.schedule(self._run_irqs, None)

    def _run_irqs(self, _):
        self._scheduled = False
        while self._ring and self._active:
            event, data, size = self._ring.pop(0)
            self._ring_bytes -= size
            if len(data) == 3 and event in (_IRQ_CENTRAL_CONNECT, _IRQ_CENTRAL_DISCONNECT):
                self._addr[:] = data[2]
                data = (data[0], data[1], memoryview(self._addr))
            self._handler(event, data)

    # -- the documented API ----------------------------------------------------------------
    def active(self, state=None):
        if state is not None:
            if state and not self._active:
                self._link()
                self._active = True
                self._name = DEFAULT_GAP_NAME
                self._mtu = DEFAULT_MTU
                self._values = {}
                self._send({"op": "active", "on": True})
            elif not state and self._active:
                self._active = False
                self._advertising = False
                self._conns = {}
                self._values = {}
                self._ring = []
                self._ring_bytes = 0
                self._send({"op": "active", "on": False})
        return self._active

    def config(self, *names, **values):
        if names and values:
            raise TypeError("either query one value or set values")
        if values:
            for key in values:
                self._set(key, values[key])
            return None
        if len(names) != 1:
            raise TypeError("must query one param")
        name = names[0]
        if name == "gap_name":
            return self._name.encode()
        self._check()
        if name == "mac":
            return (ADDR_PUBLIC, _MAC)
        if name == "mtu":
            return self._mtu
        if name == "rxbuf":
            return RING_BYTES
        raise ValueError("unknown config param")

    def _set(self, key, value):
        if key == "gap_name":
            name = value.decode() if isinstance(value, (bytes, bytearray)) else str(value)
            if len(name.encode()) > 31:
                raise OSError(errno.EINVAL)
            self._name = name
            if self._active:
                self._send({"op": "gap_name", "name": name})
        elif key == "mtu":
            self._check()
            if not 23 <= value <= 527:
                raise OSError(errno.EINVAL)
            self._mtu = value
        elif key not in ("addr_mode", "io", "bond", "le_secure", "mitm", "rxbuf"):
            raise ValueError("unknown config param")

    def irq(self, handler):
        self._handler = handler

    def gatts_register_services(self, services):
        self._check()
        if self._advertising or self._conns:
            raise OSError(_EBUSY)
        self._values = {}
        handle = _FIRST_HANDLE
        result = []
        db = []
        for service_uuid, chars in services:
            handle += 1  # the service declaration
            handles = []
            attrs = []
            for definition in chars:
                uuid, flags = definition[0], definition[1]
                handle += 2  # declaration, then value
                value = _Value(bool(flags & FLAG_READ), bool(flags & (FLAG_WRITE | 0x0004)))
                self._values[handle] = value
                handles.append(handle)
                attrs.append([handle, _hex(bytes(uuid)), flags, "char"])
                descriptors = definition[2] if len(definition) > 2 else ()
                for desc_uuid, desc_flags in descriptors:
                    handle += 1
                    desc = _Value(bool(desc_flags & _DESC_READ), bool(desc_flags & _DESC_WRITE))
                    self._values[handle] = desc
                    handles.append(handle)
                    attrs.append([handle, _hex(bytes(desc_uuid)), desc_flags, "desc"])
                if flags & (FLAG_NOTIFY | FLAG_INDICATE):
                    handle += 1  # the CCCD NimBLE adds (no handle returned for it)
            result.append(tuple(handles))
            db.append([_hex(bytes(service_uuid)), attrs])
        self._send({"op": "services", "db": db})
        return tuple(result)

    def gatts_read(self, value_handle):
        value = self._value(value_handle)
        data = value.data
        if value.append:
            value.data = b""
        return data

    def gatts_write(self, value_handle, data, send_update=False):
        value = self._value(value_handle)
        value.data = bytes(data)
        if len(value.data) > value.size:
            value.size = len(value.data)
        if send_update:
            for conn in self._conns:
                self._notify(conn, value_handle, value.data)

    def gatts_set_buffer(self, value_handle, length, append=False):
        value = self._value(value_handle)
        value.size = length
        value.append = append
        value.data = b""

    def gatts_notify(self, conn_handle, value_handle, data=None):
        value = self._value(value_handle)
        self._notify(conn_handle, value_handle, value.data if data is None else bytes(data))

    def _notify(self, conn, handle, payload):
        self._check()
        mtu = self._conns.get(conn)
        if mtu is None:
            raise OSError(errno.ENOTCONN)
        if self._out_bytes + len(payload) + 7 > TX_POOL_BYTES:
            raise OSError(errno.ENOMEM)
        payload = payload[: mtu - 3]
        self._send(
            {"op": "notify", "conn": conn, "handle": handle, "data": _hex(payload)},
            len(payload) + 7,
        )

    def gap_advertise(self, interval_us, adv_data=None, *, resp_data=None, connectable=True):
        self._check()
        if interval_us is None:
            self._advertising = False
            self._send({"op": "adv", "adv": None})
            return
        if adv_data is not None:
            if len(adv_data) > MAX_ADV_PAYLOAD:
                raise OSError(errno.EINVAL)
            self._adv = bytes(adv_data)
        if resp_data is not None:
            if len(resp_data) > MAX_ADV_PAYLOAD:
                raise OSError(errno.EINVAL)
            self._resp = bytes(resp_data)
        self._advertising = True
        self._send(
            {
                "op": "adv",
                "adv": _hex(self._adv),
                "resp": _hex(self._resp),
                "connectable": bool(connectable),
                "interval_us": interval_us,
            }
        )

    def gap_disconnect(self, conn_handle):
        self._check()
        if conn_handle not in self._conns:
            return False
        self._drop(conn_handle)
        return True

    def _check(self):
        if not self._active:
            raise OSError(errno.ENODEV)

    def _value(self, handle):
        self._check()
        value = self._values.get(handle)
        if value is None:
            raise OSError(errno.EINVAL)
        return value


def BLE():  # noqa: N802 - the module's own name for it
    """The one radio (bluetooth.BLE() returns the same object every time)."""
    global _ble
    if _ble is None:
        _ble = _BLE()
    return _ble
