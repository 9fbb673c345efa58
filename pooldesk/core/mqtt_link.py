"""The app's broker link: paho-mqtt on the asyncio loop, with no paho thread.

`pooldesk_server.broker.paho_loop` (Qt-free, shared with the backend's MQTT clients) drives the
client from the loop, so under qasync messages reach widgets on the GUI thread.

The link reconnects with exponential backoff and resubscribes; when the broker refuses the
login it fetches fresh credentials once (the backend rotates them on each request), and if the
fresh ones are refused too it stops and says so. `status` always reflects the last CONNACK or
disconnect the link actually saw.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from pooldesk.core.backend_client import ApiError, SessionEnded
from pooldesk.core.failures import Code, Failure, Message, failure
from pooldesk.core.models import MqttCredentials
from pooldesk.core.settings import UnsafeUrlError, check_broker_url
from pooldesk_server.broker.paho_loop import CONNECT_ERRORS, PahoOnLoop

log = logging.getLogger(__name__)

LOGIN_REFUSED_CODES = {
    133,
    134,
    135,
}  # client id not valid, bad user name or password, not authorized
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883, "ws": 80, "wss": 443}


class LinkState(enum.Enum):
    IDLE = "idle"  # not started, or stopped
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"  # lost or failed; the next attempt is scheduled
    REFUSED = "refused"  # the broker refused the login, even with fresh credentials
    FAILED = "failed"  # cannot go on (unsafe broker URL, session ended)


@dataclass(frozen=True)
class LinkStatus:
    state: LinkState
    detail: Message = ""  # a Failure, or the broker's host once connected
    retry_in: float | None = None


@dataclass(frozen=True)
class BrokerAddress:
    scheme: str
    host: str
    port: int
    path: str

    @property
    def transport(self) -> Literal["websockets", "tcp"]:
        return "websockets" if self.scheme in ("ws", "wss") else "tcp"

    @property
    def tls(self) -> bool:
        return self.scheme in ("mqtts", "wss")


def parse_broker_url(url: str, allow_insecure: bool) -> BrokerAddress:
    url = check_broker_url(url, allow_insecure)
    parts = urlsplit(url)
    assert parts.hostname is not None
    return BrokerAddress(
        scheme=parts.scheme,
        host=parts.hostname,
        port=parts.port or DEFAULT_PORTS[parts.scheme],
        path=parts.path or "/mqtt",
    )


CredentialsProvider = Callable[[], Awaitable[MqttCredentials]]
# Absolute topic filters for a login: lets the filters follow a list that changes (the devices
# shared with the user live under their owners' prefixes).
TopicsProvider = Callable[[MqttCredentials], Sequence[str]]
MessageHandler = Callable[[str, bytes, bool], None]
StatusHandler = Callable[[LinkStatus], None]


class MqttLink:
    def __init__(
        self,
        credentials: CredentialsProvider,
        subscriptions: Sequence[str] | TopicsProvider,
        *,
        on_message: MessageHandler | None = None,
        on_status: StatusHandler | None = None,
        allow_insecure: bool = False,
        keepalive: int = 30,
        backoff_min: float = 0.5,
        backoff_max: float = 30.0,
        connect_timeout: float = 10.0,
    ) -> None:
        self._fetch_credentials = credentials
        if callable(subscriptions):
            self._topics: TopicsProvider = subscriptions
        else:
            relative = list(subscriptions)  # relative to the credentials' topic prefix
            self._topics = lambda creds: [f"{creds.topic_prefix}/{sub}" for sub in relative]
        self.subscribed: set[str] = set()  # filters the broker granted on this connection
        self._asked: dict[int, list[str]] = {}  # SUBSCRIBE message id -> its filters
        self.leaving: dict[int, list[str]] = {}  # UNSUBSCRIBE message id -> filters, until acked
        self._suback: asyncio.Future[None] | None = None  # the first SUBACK of a connection
        self._suback_mid: int | None = None
        self.on_message = on_message
        self.on_status = on_status
        self._allow_insecure = allow_insecure
        self._keepalive = keepalive
        self._backoff_min = backoff_min
        self._backoff_max = backoff_max
        self._connect_timeout = connect_timeout
        self.status = LinkStatus(LinkState.IDLE)
        self.credentials: MqttCredentials | None = None
        self._client: paho.Client | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._driver: PahoOnLoop | None = None
        self._connack: asyncio.Future[int] | None = None
        self._lost: asyncio.Future[str] | None = None

    # -- public -------------------------------------------------------------------------------
    @property
    def topic_prefix(self) -> str:
        return self.credentials.topic_prefix if self.credentials else ""

    @property
    def connected(self) -> bool:
        return self.status.state is LinkState.CONNECTED

    def start(self) -> None:
        if self._supervisor and not self._supervisor.done():
            return
        self._loop = asyncio.get_running_loop()
        self._supervisor = self._loop.create_task(self._supervise(), name="mqtt-link")

    async def stop(self) -> None:
        supervisor, self._supervisor = self._supervisor, None
        if supervisor:
            # Cancel until it is done: a cancel that lands while the task is being woken up can
            # be lost (seen on qasync, the task then waits "cancelling" forever); a bounded
            # wait and a fresh cancel make stop() always return.
            for _ in range(100):
                supervisor.cancel()
                done, _pending = await asyncio.wait({supervisor}, timeout=0.05)
                if done:
                    break
            else:
                log.warning("the broker link's task did not end after being cancelled")
        await self._close_client(graceful=True)
        self._set(LinkStatus(LinkState.IDLE))

    def publish(self, topic: str, payload: bytes | str, *, retain: bool = False) -> bool:
        """Queue a QoS 1 message; False when not connected (nothing is queued then)."""
        if not self.connected or self._client is None:
            return False
        info = self._client.publish(topic, payload, qos=1, retain=retain)
        return info.rc == paho.MQTT_ERR_SUCCESS

    def update_subscriptions(self) -> None:
        """Follow a changed list of topic filters on the live connection: subscribe the new
        ones, unsubscribe those no longer wanted, ask again for any the broker refused (a share
        accepted since). Without a connection the next connect subscribes the list anyway."""
        client, creds = self._client, self.credentials
        if not self.connected or client is None or creds is None:
            return
        wanted = list(dict.fromkeys(self._topics(creds)))
        asked = {topic for topics in self._asked.values() for topic in topics}
        gone = [t for t in self.subscribed if t not in wanted]
        if gone:
            rc, mid = client.unsubscribe(gone)
            if rc == paho.MQTT_ERR_SUCCESS and mid is not None:
                self.leaving[mid] = gone
            self.subscribed.difference_update(gone)
        self._subscribe(client, [t for t in wanted if t not in self.subscribed and t not in asked])

    def _subscribe(self, client: paho.Client, topics: list[str]) -> int | None:
        """SUBSCRIBE the filters; its message id (None when nothing was sent)."""
        if not topics:
            return None
        rc, mid = client.subscribe([(topic, 1) for topic in topics])
        if rc == paho.MQTT_ERR_SUCCESS and mid is not None:
            self._asked[mid] = topics
            return int(mid)
        return None

    def _on_subscribe(
        self, client: paho.Client, _ud: Any, mid: int, reasons: Any, _props: Any
    ) -> None:
        """SUBACK: keep the granted filters; a refused one (no right, yet) is asked again by
        the next update_subscriptions()."""
        topics = self._asked.pop(mid, [])
        if client is not self._client:
            return
        if mid == self._suback_mid and self._suback is not None and not self._suback.done():
            self._suback.set_result(None)
        for topic, reason in zip(topics, reasons, strict=False):
            if getattr(reason, "is_failure", False):
                log.info("the broker refused the subscription to %s (%s)", topic, reason)
            else:
                self.subscribed.add(topic)

    def _on_unsubscribe(self, _c: paho.Client, _ud: Any, mid: int, _r: Any, _p: Any) -> None:
        self.leaving.pop(mid, None)

    # -- supervision --------------------------------------------------------------------------
    def _set(self, status: LinkStatus) -> None:
        if status != self.status:
            self.status = status
            log.info("mqtt link: %s %s", status.state.value, status.detail)
            if self.on_status:
                self.on_status(status)

    async def _supervise(self) -> None:
        failures = 0
        refreshed_after_refusal = False
        first = True
        while True:
            self._set(
                LinkStatus(
                    LinkState.CONNECTING if first else LinkState.RECONNECTING,
                    failure(Code.BROKER_CONNECTING),
                )
            )
            first = False
            try:
                if self.credentials is None:
                    self.credentials = await self._fetch_credentials()
                outcome = await self._connect_once(self.credentials)
            except SessionEnded as exc:
                self._set(LinkStatus(LinkState.FAILED, exc.failure))
                return
            except UnsafeUrlError as exc:
                self._set(LinkStatus(LinkState.FAILED, exc.failure))
                return
            except ApiError as exc:
                outcome = failure(Code.BROKER_NO_CREDENTIALS, cause=exc.failure)
            if outcome == "connected":
                failures = 0
                refreshed_after_refusal = False
                reason = await self._wait_lost()
                self._set(
                    LinkStatus(LinkState.RECONNECTING, failure(Code.BROKER_LOST, reason=reason))
                )
                await self._close_client(graceful=False)
                await asyncio.sleep(random.uniform(0.05, 0.3))  # noqa: S311 - jitter, not crypto
                continue
            await self._close_client(graceful=False)
            if outcome == "refused":
                if not refreshed_after_refusal:
                    log.info("broker refused the login; fetching fresh credentials once")
                    refreshed_after_refusal = True
                    self.credentials = None
                    continue
                self._set(LinkStatus(LinkState.REFUSED, failure(Code.BROKER_REFUSED_LOGIN)))
                return
            delay = min(self._backoff_max, self._backoff_min * 2**failures)
            delay *= random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not crypto
            failures += 1
            self._set(LinkStatus(LinkState.RECONNECTING, outcome, retry_in=round(delay, 1)))
            await asyncio.sleep(delay)

    async def _connect_once(self, creds: MqttCredentials) -> str | Failure:
        """Connect and wait for CONNACK: 'connected', 'refused', or a reason to retry."""
        address = parse_broker_url(creds.broker_url, self._allow_insecure)
        client = self._make_client(creds, address)
        assert self._loop is not None
        self._connack = self._loop.create_future()
        self._lost = self._loop.create_future()
        self._client = client
        self._driver = PahoOnLoop(client, connect_timeout=self._connect_timeout)
        try:
            await self._driver.connect(
                address.host, address.port, self._keepalive, clean_start=True
            )
        except CONNECT_ERRORS as exc:
            where = f"{address.host}:{address.port}"
            return failure(Code.BROKER_UNREACHABLE, address=where, reason=_describe(exc))
        try:
            code = await asyncio.wait_for(asyncio.shield(self._connack), self._connect_timeout)
        except TimeoutError:
            return failure(Code.BROKER_NO_CONNACK)
        if code == 0:
            self.subscribed.clear()
            self._asked.clear()
            self.leaving.clear()
            mid = self._subscribe(client, list(dict.fromkeys(self._topics(creds))))
            if mid is not None:
                # "Connected" means listening: a message sent after it is not missed.
                self._suback = self._loop.create_future()
                self._suback_mid = mid
                assert self._lost is not None
                waiters: set[asyncio.Future[Any]] = {self._suback, self._lost}
                await asyncio.wait(
                    waiters,
                    timeout=self._connect_timeout,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if self._lost.done():
                    return failure(Code.BROKER_LOST, reason=self._lost.result())
                if not self._suback.done():
                    return failure(Code.BROKER_NO_SUBACK)
            self._set(LinkStatus(LinkState.CONNECTED, address.host))
            return "connected"
        if code in LOGIN_REFUSED_CODES:
            return "refused"
        return failure(Code.BROKER_REFUSED, reason=code)

    async def _wait_lost(self) -> str:
        assert self._lost is not None
        return await asyncio.shield(self._lost)

    async def _close_client(self, *, graceful: bool) -> None:
        driver, self._driver = self._driver, None
        self._client = None
        if driver is not None:
            await driver.close(graceful=graceful and self.status.state is LinkState.CONNECTED)

    # -- paho wiring --------------------------------------------------------------------------
    def _make_client(self, creds: MqttCredentials, address: BrokerAddress) -> paho.Client:
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=creds.client_id,
            protocol=paho.MQTTv5,
            transport=address.transport,
        )
        client.username_pw_set(creds.user, creds.password)
        if address.transport == "websockets":
            client.ws_set_options(path=address.path)
        if address.tls:
            context = ssl.create_default_context()  # verifies the certificate and host name
            if creds.ca_cert:
                context.load_verify_locations(cadata=creds.ca_cert)
            client.tls_set_context(context)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_unsubscribe = self._on_unsubscribe
        return client

    def _on_connect(
        self, client: paho.Client, _ud: Any, _flags: Any, reason: Any, _props: Any
    ) -> None:
        if client is self._client and self._connack and not self._connack.done():
            self._connack.set_result(int(reason.value))

    def _on_disconnect(
        self, client: paho.Client, _ud: Any, _flags: Any, reason: Any, _p: Any
    ) -> None:
        if client is not self._client:
            return
        text = str(reason) if reason is not None else "closed"
        if self._connack and not self._connack.done():
            code = int(getattr(reason, "value", 128))
            self._connack.set_result(code if code >= 128 else 128)
        if self._lost and not self._lost.done():
            self._lost.set_result(text)

    def _on_message(self, _client: paho.Client, _userdata: Any, msg: paho.MQTTMessage) -> None:
        if self.on_message is None:
            return
        try:
            self.on_message(msg.topic, bytes(msg.payload), bool(msg.retain))
        except Exception:  # a bad handler must not break the network loop
            log.exception("message handler failed for %s", msg.topic)


def _describe(exc: BaseException) -> Message:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return failure(Code.CERTIFICATE_NOT_TRUSTED, detail=exc.verify_message)
    if isinstance(exc, TimeoutError):
        return failure(Code.TIMED_OUT)
    return str(exc) or type(exc).__name__  # the system's own words (shown as they are)
