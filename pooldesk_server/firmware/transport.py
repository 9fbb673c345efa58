"""The update's way to the unit: MQTT, on the unit's own authenticated connection.

The backend side is a short-lived service login `svc-ota-<random>` with rights on exactly the
four update topics of one device prefix P (docs/mqtt.md "Firmware updates"): it publishes the
retained offer on P/ota/offer, answers each P/ota/get with one chunk on P/ota/data, and follows
P/ota/status. paho runs it in its own thread; `on_status` is called from there.
"""

from __future__ import annotations

import base64
import json
import logging
import ssl
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from pooldesk_firmware.tools.release import Bundle
from pooldesk_server.broker.base import BrokerLogin, BrokerUnavailable
from pooldesk_server.broker.rights import AclRule, Rights

log = logging.getLogger("pooldesk_server.firmware")

CONNECT_TIMEOUT_S = 10.0


def session_rights(prefix: str) -> Rights:
    return (
        AclRule("publishClientSend", f"{prefix}/ota/offer"),
        AclRule("publishClientSend", f"{prefix}/ota/data"),
        AclRule("subscribePattern", f"{prefix}/ota/get"),
        AclRule("publishClientReceive", f"{prefix}/ota/get"),
        AclRule("subscribePattern", f"{prefix}/ota/status"),
        AclRule("publishClientReceive", f"{prefix}/ota/status"),
    )


def offer_payload(update_id: str, bundle: Bundle, force: bool) -> bytes:
    """The retained P/ota/offer: the signed manifest, its signature, whether forced."""
    return json.dumps(
        {
            "id": update_id,
            "version": bundle.version,
            "manifest": bundle.manifest_text,
            "sig": base64.b64encode(bundle.signature).decode(),
            "force": force,
            "ts": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ).encode()


class OtaSession:
    def __init__(
        self,
        url: str,
        ca_pem: str | None,
        login: BrokerLogin,
        prefix: str,
        update_id: str,
        offer: bytes,
        files: dict[str, bytes],
        chunk: int,
        on_status: Callable[[dict], None],
    ) -> None:
        self.prefix = prefix
        self.update_id = update_id
        self.offer = offer
        self.files = files
        self.chunk = chunk
        self.on_status = on_status
        self.chunks_served = 0
        # Tests and the demo may spoil chunks to see the unit refuse them.
        self.tamper: Callable[[str, int, bytes], bytes] | None = None
        self._ready = threading.Event()
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise BrokerUnavailable(f"cannot update devices over {parts.scheme}://")
        self._host = parts.hostname
        self._port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=login.client_id,
            protocol=mqtt.MQTTv5,
        )
        client.username_pw_set(login.username, login.password)
        if parts.scheme == "mqtts":
            context = ssl.create_default_context(cadata=ca_pem) if ca_pem else None
            client.tls_set_context(context or ssl.create_default_context())
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self.client = client

    def start(self) -> None:
        """Blocking: connect, subscribe, publish the offer (retained)."""
        try:
            self.client.connect(self._host, self._port)
        except OSError as error:
            raise BrokerUnavailable(f"cannot reach the broker: {error}") from None
        self.client.loop_start()
        if not self._ready.wait(CONNECT_TIMEOUT_S):
            self.close(clear_offer=False)
            raise BrokerUnavailable("the broker did not accept the update's service login")

    def close(self, clear_offer: bool = True) -> None:
        """Blocking: take the retained offer back (so a unit does not see it again), leave."""
        try:
            if clear_offer and self.client.is_connected():
                info = self.client.publish(f"{self.prefix}/ota/offer", b"", qos=1, retain=True)
                info.wait_for_publish(5)
        except (RuntimeError, ValueError) as error:
            log.warning("clearing the offer on %s failed: %s", self.prefix, error)
        finally:
            self.client.disconnect()
            self.client.loop_stop()

    # ---- paho's thread ----

    def _on_connect(
        self, c: mqtt.Client, _u: object, _f: object, reason: object, _p: object
    ) -> None:
        if getattr(reason, "is_failure", True):
            log.warning("update login refused by the broker: %s", reason)
            return
        c.subscribe([(f"{self.prefix}/ota/get", 1), (f"{self.prefix}/ota/status", 1)])

    def _on_subscribe(self, c: mqtt.Client, _u: object, _m: int, reasons: list, _p: object) -> None:
        if reasons and all(not r.is_failure for r in reasons):
            c.publish(f"{self.prefix}/ota/offer", self.offer, qos=1, retain=True)
            self._ready.set()

    def _on_message(self, c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        try:
            body = json.loads(msg.payload)
        except ValueError:
            return
        if not isinstance(body, dict) or body.get("id") != self.update_id:
            return
        if msg.topic.endswith("/ota/get"):
            self._serve(c, body)
        elif msg.topic.endswith("/ota/status"):
            self.on_status(body)

    def _serve(self, c: mqtt.Client, ask: dict) -> None:
        name, index = ask.get("file"), ask.get("chunk")
        if not isinstance(name, str) or not isinstance(index, int) or index < 0:
            return
        data = self.files.get(name)
        if data is None:
            return
        part = data[index * self.chunk : (index + 1) * self.chunk]
        if self.tamper is not None:
            part = self.tamper(name, index, part)
        head = json.dumps({"id": self.update_id, "file": name, "chunk": index}).encode()
        c.publish(f"{self.prefix}/ota/data", head + b"\n" + part, qos=1)
        self.chunks_served += 1
