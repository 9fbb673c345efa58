# Bluetooth LE provisioning, device side: MicroPython's built-in `bluetooth` module (no aioble)
# around prov_core.ProvCore. Usage (the controller is the host):
#     prov = Provisioning(host); await prov.run()
# The IRQ handler runs as a scheduled callback on the ESP32: it only copies what it needs and
# wakes the one task that does the protocol work, the GATT calls and the radio switching.
import asyncio
import errno
import time

import bluetooth
import prov_core

_IRQ_CENTRAL_CONNECT = 1
_IRQ_CENTRAL_DISCONNECT = 2
_IRQ_GATTS_WRITE = 3
_IRQ_MTU_EXCHANGED = 21

_FLAG_READ = 0x0002
_FLAG_WRITE = 0x0008
_FLAG_NOTIFY = 0x0010
_DESC_READ = 0x0001  # descriptor flags are ATT permissions (read = 1), not GATT properties

_USER_DESCRIPTION = 0x2901
_MIN_MTU = 23        # until the central exchanges MTUs
_MTU = 256           # preferred ATT MTU; a request frame is at most _MTU - 3 bytes
_ADV_INTERVAL_US = 100000
_NOTIFY_RETRIES = 50
_NOTIFY_RETRY_S = 0.02
_RETRY_S = 2         # after the radio itself failed
WAKE_S = 600         # the button turns Bluetooth on for this long on a bound, online unit

_AD_FLAGS = 0x01
_AD_UUID128 = 0x07
_AD_NAME = 0x09
_AD_MANUFACTURER = 0xFF
_FLAGS_LE_GENERAL = 0x06  # LE general discoverable, BR/EDR not supported

try:
    _Flag = asyncio.ThreadSafeFlag
except AttributeError:  # CPython (the simulator): IRQs arrive on the loop's own thread
    class _Flag:
        def __init__(self):
            self._event = asyncio.Event()

        def set(self):
            self._event.set()

        async def wait(self):
            await self._event.wait()
            self._event.clear()


def _now_ms():
    return prov_core.monotonic_ms()


def _ms_until(deadline):
    diff = getattr(time, "ticks_diff", None)
    now = _now_ms()
    return diff(deadline, now) if diff is not None else deadline - now


def _ad(kind, value):
    return bytes((len(value) + 1, kind)) + value


def advertising_payloads(device_id, bound):
    """(advertisement, scan response) of docs/provisioning.md section 1: flags and the service
    UUID in the 31-byte advertisement; the name and the manufacturer data in the scan response."""
    adv = (_ad(_AD_FLAGS, bytes((_FLAGS_LE_GENERAL,)))
           + _ad(_AD_UUID128, bytes(bluetooth.UUID(prov_core.SERVICE_UUID))))
    company = prov_core.MANUFACTURER_ID
    maker = bytes((company & 0xFF, company >> 8)) + prov_core.manufacturer_data(device_id, bound)
    resp = _ad(_AD_NAME, device_id.encode()) + _ad(_AD_MANUFACTURER, maker)
    return adv, resp


def _service_definition():
    chars = []
    for name, uuid in prov_core.ENDPOINTS:
        if name == "device-info":
            flags = _FLAG_READ
        elif name == prov_core.STATUS_ENDPOINT:
            flags = _FLAG_NOTIFY
        else:
            flags = _FLAG_WRITE | _FLAG_NOTIFY
        chars.append((bluetooth.UUID(uuid), flags,
                      ((bluetooth.UUID(_USER_DESCRIPTION), _DESC_READ),)))
    return (bluetooth.UUID(prov_core.SERVICE_UUID), tuple(chars))


class Provisioning:
    """Advertises the provisioning service and serves one peer at a time, forever.

    Bluetooth is on while the unit is unbound or has not been online since boot; once it is
    bound and online (and no peer is connected) the radio is switched off, so TLS gets the
    memory, until `wake()` (the button) or a reboot (a factory reset) turns it back on."""

    def __init__(self, host, adv_interval_us=_ADV_INTERVAL_US, urandom=None, now_ms=None):
        self.host = host
        self.core = prov_core.ProvCore(host, urandom=urandom, now_ms=now_ms)
        self._adv_interval_us = adv_interval_us
        self._ble = None
        self._handles = None   # endpoint name -> value handle, while the radio is on
        self._names = {}       # value handle -> request endpoint name
        self._info = None      # device-info value last written
        self._adv_bound = None  # bound flag of the running advertisement, None = not advertising
        self._conn = None      # connection handle of the peer being served
        self._extra = []       # other centrals, to be hung up on
        self._mtu = _MIN_MTU
        self._joined = False
        self._left = False
        self._writes = []      # (conn, endpoint, value) copied by the IRQ handler, oldest first
        self._outbox = []      # (conn, endpoint, frame) to notify, oldest first
        self._online = False   # bound and online since boot: the radio may go off
        self._online_now = False
        self._hold_until = None
        self._flag = _Flag()
        host.provisioning = self

    # -- the IRQ handler (scheduled callback: copy, flag, return) ---------------------------
    def _irq(self, event, data):
        if event == _IRQ_GATTS_WRITE:
            conn, handle = data
            name = self._names.get(handle)
            if name is None or conn != self._conn:
                return
            self._writes.append((conn, name, self._ble.gatts_read(handle)))
        elif event == _IRQ_CENTRAL_CONNECT:
            if self._conn is None:
                self._conn = data[0]
                self._mtu = _MIN_MTU
                self._joined = True
                self._adv_bound = None  # the controller stops advertising on a connection
            else:
                self._extra.append(data[0])
        elif event == _IRQ_CENTRAL_DISCONNECT:
            if data[0] != self._conn:
                return
            self._conn = None
            self._left = True
        elif event == _IRQ_MTU_EXCHANGED:
            if data[0] != self._conn:
                return
            self._mtu = data[1]
        else:
            return
        self._flag.set()

    # -- main loop -------------------------------------------------------------------------
    async def run(self):
        try:
            while True:
                try:
                    await self._step()
                except Exception as e:  # noqa - keep the pump running; try the radio again
                    print("provisioning: bluetooth failed:", repr(e))
                    self._radio_off()
                    await asyncio.sleep(_RETRY_S)
        finally:
            self._radio_off()

    async def _step(self):
        if self._joined or self._left:
            self._joined = False
            if self._left:
                self._left = False
                if self._online_now:
                    self._hold_until = None  # a session on an online unit ends the wake-up
            self.core.reset()  # a new peer, or none: no session, no partial message
        while self._extra:
            self._ble.gap_disconnect(self._extra.pop())
        if self._want_radio():
            if self._handles is None:
                self._radio_on()
            self._refresh_info()
            if self._conn is None and self._adv_bound != self.host.bound:
                self._advertise()
        elif self._handles is not None:
            self._radio_off()
        if self._outbox:
            conn, name, frame = self._outbox.pop(0)
            if conn == self._conn:  # else meant for a peer that left
                await self._notify(conn, name, frame)
            await asyncio.sleep(0)
        elif self._writes:
            conn, name, value = self._writes.pop(0)
            if conn == self._conn:
                await self._on_write(conn, name, value)
        else:
            await self._flag.wait()

    def _want_radio(self):
        if self._conn is not None or not (self._online and self.host.bound):
            return True
        return self._hold_until is not None and _ms_until(self._hold_until) > 0

    # -- the radio -------------------------------------------------------------------------
    def _radio_on(self):
        ble = bluetooth.BLE()
        self._ble = ble
        ble.irq(self._irq)
        ble.active(True)
        ble.config(gap_name=self.host.device_id, mtu=_MTU)
        ((handles),) = ble.gatts_register_services((_service_definition(),))
        names = {}
        by_name = {}
        for i, (name, _) in enumerate(prov_core.ENDPOINTS):
            value, description = handles[2 * i], handles[2 * i + 1]
            ble.gatts_write(description, name.encode())
            by_name[name] = value
            if name in prov_core.REQUEST_ENDPOINTS:
                ble.gatts_set_buffer(value, _MTU - 3)  # default buffers hold 20 bytes
                names[value] = name
        self._names = names
        self._handles = by_name
        self._info = None
        self._adv_bound = None
        self._conn = None

    def _radio_off(self):
        if self._handles is not None:
            self._handles = None
            try:
                self._ble.active(False)  # drops any peer without a disconnect IRQ
            except Exception as e:  # noqa
                print("provisioning: bluetooth off failed:", repr(e))
        self._names = {}
        self._adv_bound = None
        self._conn = None
        self._extra = []
        self._joined = self._left = False
        self._writes = []
        self._outbox = []
        self.core.reset()

    def _advertise(self):
        bound = self.host.bound
        adv, resp = advertising_payloads(self.host.device_id, bound)
        self._ble.gap_advertise(self._adv_interval_us, adv_data=adv, resp_data=resp,
                                connectable=True)
        self._adv_bound = bound

    def _refresh_info(self):
        info = self.core.device_info()
        if info != self._info:
            self._ble.gatts_write(self._handles["device-info"], info)
            self._info = info

    # -- one peer --------------------------------------------------------------------------
    async def _on_write(self, conn, name, value):
        self.core.mtu = self._mtu
        try:
            frames = await self.core.on_write(name, value)
        except Exception as e:  # noqa - keep serving; ProvCore answers errors itself
            print("provisioning: write on", name, "failed:", repr(e))
            return
        self._queue(conn, frames)
        if self._handles is not None:
            self._refresh_info()

    def _queue(self, conn, frames):
        if conn is not None and conn == self._conn:
            for name, frame in frames:
                self._outbox.append((conn, name, frame))

    async def _notify(self, conn, name, frame):
        """Notify one frame; while the stack is out of buffers (OSError), wait and retry."""
        for _ in range(_NOTIFY_RETRIES):
            if conn != self._conn or self._handles is None:
                return  # the peer left: nobody to answer
            try:
                self._ble.gatts_notify(conn, self._handles[name], frame)
                return
            except OSError as e:
                if e.args and e.args[0] == errno.ENOTCONN:
                    return
            await asyncio.sleep(_NOTIFY_RETRY_S)
        if conn == self._conn:  # it cannot be answered any more: let it reconnect cleanly
            self._outbox = []
            self._ble.gap_disconnect(conn)

    # -- called by the controller ----------------------------------------------------------
    def publish_status(self, state, detail=None):
        """Report a connection state (contract: idle/connecting/wifi_connected/mqtt_connected/
        failed with detail {"reason": ...}). Sent to the peer if a session is open."""
        self._online_now = state == "mqtt_connected"
        if self._online_now and self.host.bound:
            self._online = True
        self.core.mtu = self._mtu
        self._queue(self._conn, self.core.status_event(state, detail))
        self._flag.set()

    def wake(self, seconds=WAKE_S):
        """Bluetooth back on for `seconds` (the button), e.g. for a Wi-Fi change on a bound
        unit. A session that ends while the unit is online ends the wake-up early."""
        add = getattr(time, "ticks_add", None)
        now = _now_ms()
        self._hold_until = add(now, seconds * 1000) if add is not None else now + seconds * 1000
        self._flag.set()
        asyncio.create_task(self._hold_timer(seconds))

    async def _hold_timer(self, seconds):
        await asyncio.sleep(seconds)
        self._flag.set()

    @property
    def radio_on(self):
        """True while Bluetooth is active (advertising or serving a peer)."""
        return self._handles is not None
