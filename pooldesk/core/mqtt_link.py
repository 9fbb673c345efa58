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
    detail: str = ""
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
MessageHandler = Callable[[str, bytes, bool], None]
StatusHandler = Callable[[LinkStatus], None]


class MqttLink:
    def __init__(
        self,
        credentials: CredentialsProvider,
        subscriptions: Sequence[str],
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
        self._subscriptions = list(subscriptions)  # relative to the credentials' topic prefix
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
                    "Connecting to the broker…",
                )
            )
            first = False
            try:
                if self.credentials is None:
                    self.credentials = await self._fetch_credentials()
                outcome = await self._connect_once(self.credentials)
            except SessionEnded as exc:
                self._set(LinkStatus(LinkState.FAILED, exc.message))
                return
            except UnsafeUrlError as exc:
                self._set(LinkStatus(LinkState.FAILED, str(exc)))
                return
            except ApiError as exc:
                outcome = f"Could not get broker credentials: {exc.message}"
            if outcome == "connected":
                failures = 0
                refreshed_after_refusal = False
                reason = await self._wait_lost()
                self._set(LinkStatus(LinkState.RECONNECTING, f"Connection lost: {reason}"))
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
                self._set(
                    LinkStatus(
                        LinkState.REFUSED,
                        "The broker refused the login. Sign out and in again, or ask the server's "
                        "administrator to check the broker.",
                    )
                )
                return
            delay = min(self._backoff_max, self._backoff_min * 2**failures)
            delay *= random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not crypto
            failures += 1
            self._set(LinkStatus(LinkState.RECONNECTING, outcome, retry_in=round(delay, 1)))
            await asyncio.sleep(delay)

    async def _connect_once(self, creds: MqttCredentials) -> str:
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
            return f"Cannot reach the broker at {address.host}:{address.port} ({_describe(exc)})."
        try:
            code = await asyncio.wait_for(asyncio.shield(self._connack), self._connect_timeout)
        except TimeoutError:
            return "The broker did not answer the connection request."
        if code == 0:
            client.subscribe([(f"{creds.topic_prefix}/{sub}", 1) for sub in self._subscriptions])
            self._set(LinkStatus(LinkState.CONNECTED, address.host))
            return "connected"
        if code in LOGIN_REFUSED_CODES:
            return "refused"
        return f"The broker refused the connection (reason {code})."

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


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate not trusted: {exc.verify_message}"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__
