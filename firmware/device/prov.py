# Bluetooth LE provisioning, device side: the aioble glue around prov_core.ProvCore.
# Usage (A's controller is the host): prov = Provisioning(host); await prov.run()
import asyncio

import aioble
import bluetooth
import prov_core

_ADV_INTERVAL_US = 100000
_USER_DESCRIPTION = 0x2901
_MAX_ATT_VALUE = 512
_NOTIFY_RETRIES = 50
_NOTIFY_RETRY_S = 0.02


class Provisioning:
    """Advertises the provisioning service and serves one peer at a time, forever."""

    def __init__(self, host, adv_interval_us=_ADV_INTERVAL_US, urandom=None, now_ms=None):
        self.host = host
        self.core = prov_core.ProvCore(host, urandom=urandom, now_ms=now_ms)
        self._adv_interval_us = adv_interval_us
        self._chars = {}
        self._service = None
        self._connection = None
        self._outbox = []
        self._outbox_ready = asyncio.Event()
        self._lock = asyncio.Lock()
        self._info = None
        host.provisioning = self

    # -- GATT setup ------------------------------------------------------------------------
    def _register(self):
        svc = aioble.Service(bluetooth.UUID(prov_core.SERVICE_UUID))
        for name, uuid in prov_core.ENDPOINTS:
            if name == "device-info":
                ch = aioble.Characteristic(svc, bluetooth.UUID(uuid), read=True)
            elif name == prov_core.STATUS_ENDPOINT:
                ch = aioble.Characteristic(svc, bluetooth.UUID(uuid), notify=True)
            else:
                # Peer writes are up to MTU-3 bytes; a plain characteristic's buffer holds 20.
                ch = aioble.BufferedCharacteristic(svc, bluetooth.UUID(uuid), write=True,
                                                   notify=True, capture=True,
                                                   max_len=_MAX_ATT_VALUE)
            aioble.Descriptor(ch, bluetooth.UUID(_USER_DESCRIPTION), read=True,
                              initial=name.encode())
            self._chars[name] = ch
        aioble.register_services(svc)
        self._service = svc
        self._refresh_info()

    def _refresh_info(self):
        info = self.core.device_info()
        if info != self._info:
            self._chars["device-info"].write(info, send_update=False)
            self._info = info

    # -- main loop -------------------------------------------------------------------------
    async def run(self):
        if self._service is None:
            self._register()
        while True:
            self._refresh_info()
            connection = await aioble.advertise(
                self._adv_interval_us, name=self.host.device_id,
                services=[bluetooth.UUID(prov_core.SERVICE_UUID)],
                manufacturer=(prov_core.MANUFACTURER_ID,
                              prov_core.manufacturer_data(self.host.device_id, self.host.bound)),
                timeout_ms=None)
            await self._serve(connection)

    async def _serve(self, connection):
        self.core.reset()
        self._connection = connection
        self._outbox = []
        tasks = [asyncio.create_task(self._sender(connection))]
        for name in prov_core.REQUEST_ENDPOINTS:
            tasks.append(asyncio.create_task(self._receiver(name, connection)))
        try:
            await connection.disconnected(timeout_ms=None)
        finally:
            for task in tasks:
                task.cancel()
            self._connection = None
            self._outbox = []
            self.core.reset()
            self._refresh_info()

    async def _receiver(self, name, connection):
        ch = self._chars[name]
        while True:
            writer, data = await ch.written(timeout_ms=None)
            if writer != connection:
                continue
            async with self._lock:
                self.core.mtu = connection.mtu or 23
                try:
                    frames = await self.core.on_write(name, data)
                except Exception as e:  # noqa - keep serving; ProvCore answers errors itself
                    print("provisioning: write on", name, "failed:", repr(e))
                    continue
                self._send(frames)
                self._refresh_info()

    def _send(self, frames):
        if frames and self._connection is not None:
            self._outbox.extend(frames)
            self._outbox_ready.set()

    async def _sender(self, connection):
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            while self._outbox:
                name, frame = self._outbox.pop(0)
                if not connection.is_connected():
                    return
                if not await self._notify(self._chars[name], connection, frame):
                    try:  # the peer cannot be answered any more: let it reconnect cleanly
                        await connection.disconnect()
                    except Exception:  # noqa
                        pass
                    return
                await asyncio.sleep(0)

    async def _notify(self, ch, connection, frame):
        """Notify one frame; when the stack is out of buffers (OSError), wait and retry."""
        for _ in range(_NOTIFY_RETRIES):
            try:
                ch.notify(connection, frame)
                return True
            except OSError:
                if not connection.is_connected():
                    return False
                await asyncio.sleep(_NOTIFY_RETRY_S)
            except Exception:  # noqa - a peer that left mid-notify; disconnected() ends us
                return False
        return False

    # -- called by the controller ----------------------------------------------------------
    def publish_status(self, state, detail=None):
        """Report a connection state (contract: idle/connecting/wifi_connected/mqtt_connected/
        failed with detail {"reason": ...}). Sent to the peer if a session is open."""
        connection = self._connection
        if connection is not None:
            self.core.mtu = connection.mtu or 23
        self._send(self.core.status_event(state, detail))
        if self._service is not None:
            self._refresh_info()
