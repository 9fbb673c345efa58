# Bench stand-in for MicroPython's built-in `bluetooth` (ESP32: NimBLE, whose own memory is
# outside the MicroPython heap): registers services, advertises, and records that it did
# (`advertising`), so the bench knows the unit is advertising. No peer ever connects; the
# bench feeds provisioning frames to prov_core directly.
FLAG_READ = 0x0002
FLAG_WRITE = 0x0008
FLAG_NOTIFY = 0x0010
advertising = [False]


class UUID:
    def __init__(self, value):
        self.value = value
        if isinstance(value, int):
            self._b = bytes((value & 0xFF, value >> 8))
        else:
            text = value.replace("-", "")
            self._b = bytes(int(text[i : i + 2], 16) for i in range(len(text) - 2, -1, -2))

    def __eq__(self, other):
        return isinstance(other, UUID) and other.value == self.value

    def __hash__(self):
        return hash(self.value)

    # bytes(uuid) is the little-endian form, as on the board (buffer protocol there)
    def __iter__(self):
        return iter(self._b)

    def __len__(self):
        return len(self._b)


class BLE:
    def __init__(self):
        self._active = False
        self._irq = None
        self._values = {}
        self._next = 1

    def active(self, on=None):
        if on is None:
            return self._active
        self._active = bool(on)
        if not on:
            advertising[0] = False
        return None

    def config(self, *args, **kwargs):
        if args == ("mac",):
            return (0, b"\x24\x0a\xc4\xa1\xb2\xc5")
        if args == ("gap_name",):
            return b"MPY ESP32"
        return None

    def irq(self, handler):
        self._irq = handler

    def gap_advertise(self, interval_us, adv_data=None, resp_data=None, connectable=True):
        advertising[0] = interval_us is not None

    def gap_disconnect(self, conn_handle):
        return False

    def gatts_register_services(self, services):
        out = []
        for _, chars in services:
            handles = []
            for ch in chars:
                handles.append(self._next)
                self._next += 1
                for _ in ch[2] if len(ch) > 2 else ():
                    handles.append(self._next)
                    self._next += 1
            out.append(tuple(handles))
        return tuple(out)

    def gatts_read(self, handle):
        return self._values.get(handle, b"")

    def gatts_write(self, handle, data, send_update=False):
        self._values[handle] = bytes(data)

    def gatts_set_buffer(self, handle, size, append=False):
        pass

    def gatts_notify(self, conn_handle, handle, data=None):
        pass
