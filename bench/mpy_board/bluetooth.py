# Bench stand-in for the ESP32 port's built-in `bluetooth` (peripheral role), for the RAM bench
# under the WebAssembly port (the test suite's pooldesk_firmware/sim/mpy/bluetooth.py needs
# sockets, which
# this port lacks). The bench plays the central through `central`: connect, MTU exchange, GATT
# writes (each an IRQ, as NimBLE delivers them) and the notifications it receives.
# As on the board: inactive after boot; value buffers hold 20 bytes until gatts_set_buffer() or
# a longer gatts_write(); a central's longer write is cut; a connection stops advertising. The
# value buffers live in NimBLE's memory on the board but in the heap here (~1.5 KB: counted).
ADDR_PUBLIC = 0
_IRQ_CENTRAL_CONNECT = 1
_IRQ_GATTS_WRITE = 3
_IRQ_MTU_EXCHANGED = 21
advertising = [False]
radio = [None]  # the active BLE object, for the bench's central


class UUID:
    def __init__(self, value):
        if isinstance(value, int):
            self._b = bytes((value & 0xFF, value >> 8))
        else:
            text = value.replace("-", "")
            raw = bytes(int(text[i : i + 2], 16) for i in range(0, 32, 2))
            self._b = bytes(reversed(raw))  # little endian, as bytes(UUID) gives on the board

    def __bytes__(self):
        return self._b

    def __iter__(self):
        return iter(self._b)

    def __len__(self):
        return len(self._b)

    def __eq__(self, other):
        return isinstance(other, UUID) and other._b == self._b

    def __hash__(self):
        return hash(self._b)


class BLE:
    def __init__(self):
        self._active = False
        self._handler = None
        self._values = {}
        self._sizes = {}
        self._uuids = {}
        self._notified = None
        self._conn = None

    def active(self, on=None):
        if on is None:
            return self._active
        self._active = bool(on)
        advertising[0] = False
        radio[0] = self if on else None
        if not on:
            self._conn = None
        return None

    def config(self, *args, **kwargs):
        if args:
            if args[0] == "mac":
                return (ADDR_PUBLIC, b"\x24\x0a\xc4\xa1\xb2\xc5")
            return None
        return None

    def irq(self, handler):
        self._handler = handler

    def gap_advertise(self, interval_us, adv_data=None, resp_data=None, connectable=True):
        self._check()
        advertising[0] = interval_us is not None

    def gap_disconnect(self, conn):
        return self._conn == conn

    def gatts_register_services(self, services):
        self._check()
        out, handle = [], 10
        for _, chars in services:
            handles = []
            for ch in chars:
                handles.append(handle)
                self._uuids[handle] = ch[0]
                self._sizes[handle] = 20
                handle += 1
                for _ in ch[2] if len(ch) > 2 else ():
                    handles.append(handle)
                    self._sizes[handle] = 20
                    handle += 1
            out.append(tuple(handles))
        return tuple(out)

    def gatts_write(self, handle, data, send_update=False):
        self._check()
        self._values[handle] = bytes(data)
        self._sizes[handle] = max(self._sizes.get(handle, 20), len(data))

    def gatts_read(self, handle):
        self._check()
        return self._values.get(handle, b"")

    def gatts_set_buffer(self, handle, size, append=False):
        self._sizes[handle] = size

    def gatts_notify(self, conn, handle, data=None):
        self._check()
        if self._notified is not None:
            self._notified(handle, self._values.get(handle, b"") if data is None else data)

    def _check(self):
        if not self._active:
            raise OSError(19)  # ENODEV, as the board raises while inactive

    # -- the bench's central ---------------------------------------------------------------
    def central_connect(self, conn, on_notify):
        self._conn = conn
        self._notified = on_notify
        advertising[0] = False
        self._handler(_IRQ_CENTRAL_CONNECT, (conn, ADDR_PUBLIC, memoryview(bytes(6))))

    def central_mtu(self, mtu):
        self._handler(_IRQ_MTU_EXCHANGED, (self._conn, mtu))

    def central_write(self, uuid, data):
        for handle, u in self._uuids.items():
            if u == uuid:
                self._values[handle] = bytes(data[: self._sizes[handle]])
                self._handler(_IRQ_GATTS_WRITE, (self._conn, handle))
                return
        raise ValueError("no such characteristic")

    def uuid_of(self, handle):
        return self._uuids.get(handle)

    def central_disconnect(self):
        conn, self._conn = self._conn, None
        self._notified = None
        self._handler(2, (conn, ADDR_PUBLIC, memoryview(bytes(6))))
