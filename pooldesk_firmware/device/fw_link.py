# The way online: binding -> Wi-Fi -> network time -> MQTT, with a status for every step,
# a clear reason for every failure, and reconnection with exponential backoff.

import asyncio
import os

import fw_binding
import fw_log
import fw_mqtt
import fw_wifi

KEEPALIVE_S = 30
MAX_BACKOFF_S = 60


def tls_context(ca_pem):
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=fw_binding.pem_to_der(ca_pem))
    return ctx


class Link:
    def __init__(self, host, wifi_timeout_s=20):
        self.host = host
        self.wifi_timeout_s = wifi_timeout_s
        self.wifi = fw_wifi.Wifi()
        self.client = None
        self.state = ("idle", {})
        self.backoff_s = 1
        self._wake = asyncio.Event()
        self._restart = False
        self._session_task = None

    def restart(self):
        """New settings: drop the current attempt (or connection) and start over at once."""
        self._restart = True
        self._wake.set()
        task = self._session_task
        # MicroPython cannot cancel the running task ("can't cancel self"); from inside the
        # session the flag alone makes run() start over as soon as the session returns.
        if self.client is None and task is not None and task is not asyncio.current_task():
            task.cancel()

    def _status(self, state, detail):
        self.state = (state, detail)
        self.host.on_status(state, detail)

    async def _sleep(self, seconds):
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def run(self):
        delay = 1
        while True:
            self._restart = False
            self._wake.clear()
            binding = self.host.binding()
            if binding is None:
                if self.wifi.connected():
                    self.wifi.disconnect()
                self._status("idle", {})
                await self._wake.wait()
                continue
            self._session_task = asyncio.create_task(self._session(binding))
            try:
                was_online = await self._session_task
            except asyncio.CancelledError:
                if not self._restart:
                    raise
                was_online = False
            finally:
                self._session_task = None
            if self._restart:
                delay = 1
                continue
            if was_online:
                delay = 1
            self.backoff_s = delay + os.urandom(1)[0] % 1000 / 1000
            await self._sleep(self.backoff_s)
            delay = min(delay * 2, MAX_BACKOFF_S)

    async def _session(self, b):
        """One attempt. -> True if it got online (and later lost the connection)."""
        self._status("connecting", {})
        reason, ip = await self.wifi.connect(b["ssid"], b["password"], self.wifi_timeout_s)
        if reason is not None:
            self._status("failed", {"reason": reason})
            self.host.wifi_result(b, reason)
            return False
        self.host.wifi_result(b, None)
        self._status("wifi_connected", {"ip": ip})
        self.host.sync_time()
        try:
            client = await self._mqtt_connect(b)
        except fw_mqtt.ConnectRefused as e:
            reason = "broker_auth" if e.auth else "broker_unreachable"
            self._status("failed", {"reason": reason, "message": str(e)})
            self.host.mqtt_result(b, reason)
            return False
        except asyncio.CancelledError:
            raise
        except Exception as e:  # DNS, refused, timeout, TLS verification, protocol
            self._status("failed", {"reason": "broker_unreachable", "message": repr(e)})
            self.host.mqtt_result(b, "broker_unreachable")
            return False
        self.host.mqtt_result(b, None)
        self.client = client
        self._status("mqtt_connected", {})
        try:
            await self.host.on_online(client, b["topic_prefix"])
            while client.connected and not self._restart:
                self._wake.clear()
                await self._wake.wait()
        except fw_mqtt.MQTTError as e:
            fw_log.log("link: lost while going online:", repr(e))
        finally:
            self.client = None
            self.host.on_offline()
            if client.connected:
                if self._restart:
                    try:
                        await self._goodbye(client, b)
                    finally:
                        client.abort()  # no-op after a clean goodbye; closes it if cut short
                else:  # cancelled (power cut in the simulator, shutdown): no goodbye
                    client.abort()
        return True

    async def _mqtt_connect(self, b):
        tls, host, port = fw_binding.parse_broker_url(b["broker_url"])
        ctx = tls_context(b["ca_cert"]) if tls else None
        client = fw_mqtt.Client(
            host, port, b["client_id"],
            user=b["mqtt_user"] or None, password=b["mqtt_password"] or None,
            keepalive=KEEPALIVE_S, ssl=ctx,
            will=(b["topic_prefix"] + "/status", b"offline", 1, True),
            on_message=self.host.on_message, on_close=self._wake.set)
        await client.connect()
        return client

    async def _goodbye(self, client, b):
        """Clean leave: say offline ourselves (the will only fires on an unclean one)."""
        try:
            await asyncio.wait_for(
                client.publish(b["topic_prefix"] + "/status", b"offline", retain=True), 3)
        except Exception:
            pass
        await client.disconnect()
