"""The hand-over's way to the device: MQTT over the device's own authenticated connection.

One service login per server (`svc-move-<random>`, `mover_rights`: publish any
`P/binding/set`, hear any `P/binding/state`) publishes each new binding retained on the device's
current prefix and hears the answers. paho runs on the event loop (`broker.paho_loop`), so
`on_answer(prefix, body)` is called there.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from pooldesk_contract.topics import BINDING_SET, BINDING_STATE
from pooldesk_server.broker.base import BrokerLogin, BrokerUnavailable
from pooldesk_server.broker.paho_loop import CONNECT_ERRORS, PahoOnLoop, wait_published

log = logging.getLogger("pooldesk_server.transfers")

CONNECT_TIMEOUT_S = 10.0
PUBLISH_TIMEOUT_S = 10.0
RECONNECT_S = (1.0, 120.0)  # paho's own defaults, as with its thread
STATE_SUFFIX = "/" + BINDING_STATE.name


def binding_set(transfer_id: str, login: BrokerLogin, prefix: str) -> bytes:
    """The retained P/binding/set payload (docs/sharing.md)."""
    return json.dumps(
        {
            "v": 1,
            "transfer_id": transfer_id,
            "topic_prefix": prefix,
            "mqtt_username": login.username,
            "mqtt_password": login.password,
            "client_id": login.client_id,
            "ts": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ).encode()


class BindingChannel:
    def __init__(
        self,
        url: str,
        ca_pem: str | None,
        login: BrokerLogin,
        on_answer: Callable[[str, dict], None],
    ) -> None:
        self.login = login
        self.on_answer = on_answer
        self._ready = asyncio.Event()
        self._driver: PahoOnLoop | None = None
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise BrokerUnavailable(f"cannot hand devices over over {parts.scheme}://")
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

    @property
    def connected(self) -> bool:
        return self._ready.is_set() and self.client.is_connected()

    async def start(self) -> None:
        """Connect and subscribe to every device's answer; reconnects if the link drops."""
        self._driver = PahoOnLoop(self.client, reconnect=RECONNECT_S)
        try:
            await self._driver.connect(self._host, self._port)
        except CONNECT_ERRORS as error:
            await self._driver.close(graceful=False)
            raise BrokerUnavailable(f"cannot reach the broker: {error}") from None
        try:
            await asyncio.wait_for(self._ready.wait(), CONNECT_TIMEOUT_S)
        except TimeoutError:
            await self.close()
            raise BrokerUnavailable(
                "the broker did not accept the hand-over's service login"
            ) from None

    async def publish(self, prefix: str, payload: bytes) -> None:
        """P/binding/set, retained, acknowledged by the broker (empty: withdrawn)."""
        if not self.connected:
            raise BrokerUnavailable("the hand-over's broker connection is down")
        info = self.client.publish(
            BINDING_SET.under(prefix), payload, qos=1, retain=BINDING_SET.retained
        )
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise BrokerUnavailable(
                f"binding not delivered to the broker: {mqtt.error_string(info.rc)}"
            )
        if not await wait_published([info], PUBLISH_TIMEOUT_S):
            raise BrokerUnavailable("the broker did not acknowledge the binding in time")

    async def close(self) -> None:
        if self._driver is not None:
            await self._driver.close()

    # ---- paho callbacks (on the loop) ----

    def _on_connect(
        self, c: mqtt.Client, _u: object, _f: object, reason: object, _p: object
    ) -> None:
        if getattr(reason, "is_failure", True):
            log.warning("hand-over login refused by the broker: %s", reason)
            return
        c.subscribe(BINDING_STATE.of_every_device, qos=1)

    def _on_subscribe(
        self, _c: mqtt.Client, _u: object, _m: int, reasons: list, _p: object
    ) -> None:
        if reasons and all(not r.is_failure for r in reasons):
            self._ready.set()

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        if not msg.topic.endswith(STATE_SUFFIX):
            return
        try:
            body = json.loads(msg.payload)
        except ValueError:
            return
        if isinstance(body, dict):
            self.on_answer(msg.topic[: -len(STATE_SUFFIX)], body)
