"""The update's way to the unit: MQTT, on the unit's own authenticated connection.

The backend side is a short-lived service login `svc-ota-<random>` with rights on exactly the
four update topics of one device prefix P (docs/mqtt.md "Firmware updates"): it publishes the
retained offer on P/ota/offer, answers each P/ota/get with one chunk on P/ota/data, and follows
P/ota/status. paho runs on the event loop (`broker.paho_loop`); `on_status` is called there.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from pooldesk_contract import topics
from pooldesk_contract.topics import OTA_DATA, OTA_GET, OTA_OFFER, OTA_STATUS
from pooldesk_firmware.tools.release import Bundle
from pooldesk_server.broker.base import BrokerLogin, BrokerUnavailable
from pooldesk_server.broker.paho_loop import CONNECT_ERRORS, PahoOnLoop, wait_published
from pooldesk_server.broker.rights import AclRule, Rights

log = logging.getLogger("pooldesk_server.firmware")

CONNECT_TIMEOUT_S = 10.0
RECONNECT_S = (1.0, 120.0)  # paho's own defaults, as with its thread


def session_rights(prefix: str) -> Rights:
    """The update's service login: publish what the backend sends in the firmware-update
    exchange, hear what the device sends (the contract's `ota/` topics), on one prefix only."""
    rights: list[AclRule] = []
    for topic in topics.OTA_TOPICS:
        if topic.publisher == "backend":
            rights.append(AclRule("publishClientSend", topic.under(prefix)))
        else:
            rights.append(AclRule("subscribePattern", topic.under(prefix)))
            rights.append(AclRule("publishClientReceive", topic.under(prefix)))
    return tuple(rights)


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
        self._ready = asyncio.Event()
        self._driver: PahoOnLoop | None = None
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

    async def start(self) -> None:
        """Connect, subscribe, publish the offer (retained); reconnects if the link drops."""
        self._driver = PahoOnLoop(self.client, reconnect=RECONNECT_S)
        try:
            await self._driver.connect(self._host, self._port)
        except CONNECT_ERRORS as error:
            await self._driver.close(graceful=False)
            raise BrokerUnavailable(f"cannot reach the broker: {error}") from None
        try:
            await asyncio.wait_for(self._ready.wait(), CONNECT_TIMEOUT_S)
        except TimeoutError:
            await self.close(clear_offer=False)
            raise BrokerUnavailable(
                "the broker did not accept the update's service login"
            ) from None

    async def close(self, clear_offer: bool = True) -> None:
        """Take the retained offer back (so a unit does not see it again), leave."""
        try:
            if clear_offer and self.client.is_connected():
                info = self.client.publish(
                    OTA_OFFER.under(self.prefix), b"", qos=1, retain=OTA_OFFER.retained
                )
                await wait_published([info], 5)
        except (RuntimeError, ValueError) as error:
            log.warning("clearing the offer on %s failed: %s", self.prefix, error)
        finally:
            if self._driver is not None:
                await self._driver.close()

    # ---- paho callbacks (on the loop) ----

    def _on_connect(
        self, c: mqtt.Client, _u: object, _f: object, reason: object, _p: object
    ) -> None:
        if getattr(reason, "is_failure", True):
            log.warning("update login refused by the broker: %s", reason)
            return
        c.subscribe([(OTA_GET.under(self.prefix), 1), (OTA_STATUS.under(self.prefix), 1)])

    def _on_subscribe(self, c: mqtt.Client, _u: object, _m: int, reasons: list, _p: object) -> None:
        if reasons and all(not r.is_failure for r in reasons):
            c.publish(OTA_OFFER.under(self.prefix), self.offer, qos=1, retain=OTA_OFFER.retained)
            self._ready.set()

    def _on_message(self, c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        try:
            body = json.loads(msg.payload)
        except ValueError:
            return
        if not isinstance(body, dict) or body.get("id") != self.update_id:
            return
        if msg.topic == OTA_GET.under(self.prefix):
            self._serve(c, body)
        elif msg.topic == OTA_STATUS.under(self.prefix):
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
        c.publish(OTA_DATA.under(self.prefix), head + b"\n" + part, qos=1, retain=OTA_DATA.retained)
        self.chunks_served += 1
