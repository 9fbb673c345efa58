"""The provisioning client: talks to a controller through a GattLink (docs/provisioning.md)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

from pooldesk.core.failures import Code, Failure, failure

from . import claimcode, crypto, framing
from .errors import (
    ClaimCodeForOtherDevice,
    DeviceError,
    DeviceNotAuthentic,
    LinkError,
    ProtocolError,
    ProvisioningError,
    ProvisioningTimeout,
    RetryLater,
    SessionRequired,
    WrongClaimCode,
)
from .link import GattLink
from .messages import Binding, DeviceInfo, StatusEvent, WifiNetwork

log = logging.getLogger(__name__)

VERSION = 1
REQUEST_ENDPOINTS = ("prov-session", "prov-config", "prov-scan", "prov-ctrl")
STATUS_ENDPOINT = "prov-status"
_LINK_LOST = failure(Code.BLUETOOTH_LINK_LOST)


def _unreadable(detail: str) -> ProtocolError:
    """A message from the controller this client cannot read; `detail` is technical."""
    return ProtocolError(failure(Code.CONTROLLER_MESSAGE_UNREADABLE, detail=detail))


FINAL_STATES = frozenset({"mqtt_connected", "failed"})
_SETTINGS_OPS = frozenset({"binding", "wifi", "restore"})  # answers after which settings changed
_MAX_SCAN_PAGES = 32


class StatusWatch:
    """Status events from the moment it was created; iterate it or await `until(...)`.

    It follows the settings in use: when the controller answers a `binding`, `wifi` or
    `restore`, the events the watch holds from before that answer are dropped. They describe
    the settings before it (an attempt with the old ones can fail just as new ones are sent),
    and the device notifies in order: what it reports after the answer is about the new ones.
    """

    def __init__(self, client: ProvisioningClient) -> None:
        self._client = client
        self._queue: asyncio.Queue[StatusEvent] = asyncio.Queue()

    def _push(self, event: StatusEvent) -> None:
        self._queue.put_nowait(event)

    def _settings_changed(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()

    async def next(self, timeout_s: float | None = None) -> StatusEvent:
        try:
            return await asyncio.wait_for(self._queue.get(), timeout_s)
        except TimeoutError:
            raise ProvisioningTimeout(failure(Code.PROGRESS_TIMEOUT)) from None

    async def until(self, states: Iterable[str], timeout_s: float) -> StatusEvent:
        """The first event whose state is in `states` (all within `timeout_s` seconds)."""
        wanted = frozenset(states)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            event = await self.next(max(0.0, deadline - loop.time()))
            if event.state in wanted:
                return event

    def close(self) -> None:
        self._client._watches.discard(self)

    def __aiter__(self) -> AsyncIterator[StatusEvent]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[StatusEvent]:
        while True:
            yield await self._queue.get()


class ProvisioningClient:
    """One controller over one GattLink. Requests are serialised; status events are pushed.

    Typical flow: `device_info()` → `identify()` → `open_session(code)` → `scan_wifi()` →
    `send_binding(binding, wait=True)` → on failure fix and send again → `close()` (or
    `restore()` then `close()` to leave the controller as it was).
    """

    def __init__(
        self,
        link: GattLink,
        *,
        timeout: float = 10.0,
        slow_timeout: float = 30.0,
        private_key: bytes | None = None,
    ) -> None:
        self._link = link
        self.timeout = timeout
        self.slow_timeout = slow_timeout
        self._fixed_private_key = private_key  # only for test vectors
        self._lock = asyncio.Lock()
        self._subscribed = False
        self._reassemblers = {
            n: framing.Reassembler() for n in (*REQUEST_ENDPOINTS, STATUS_ENDPOINT)
        }
        self._waiting: dict[str, tuple[int, bool, asyncio.Future[dict[str, Any]]]] = {}
        self._req_id = 0
        self._session: crypto.ClientSession | None = None
        self._candidate: crypto.ClientSession | None = None
        self._callbacks: list[Callable[[StatusEvent], None]] = []
        self._watches: set[StatusWatch] = set()
        self.device_id: str | None = None
        self.last_status: StatusEvent | None = None

    # -- public API ------------------------------------------------------------------------
    @property
    def session_open(self) -> bool:
        return self._session is not None

    async def device_info(self) -> DeviceInfo:
        """The plaintext device-info endpoint (no session needed)."""
        raw = await self._link.read("device-info")
        try:
            info = DeviceInfo.from_json(json.loads(bytes(raw).decode()))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise ProtocolError(failure(Code.CONTROLLER_INFO_UNREADABLE)) from exc
        if VERSION not in info.protocol_versions:
            raise ProtocolError(failure(Code.CONTROLLER_PROTOCOL_NEWER))
        self.device_id = info.device_id
        return info

    async def identify(self, seconds: int = 5) -> None:
        """Blink the controller's LED (works before the session too, for at most 10 s)."""
        await self._request(
            "prov-ctrl",
            {"op": "identify", "seconds": int(seconds)},
            sealed=self._session is not None,
        )

    async def open_session(self, claim_code: str) -> None:
        """Secure session bound to the claim code (bare, grouped or the label's QR text).

        Raises InvalidClaimCode (not a code; nothing sent), ClaimCodeForOtherDevice,
        WrongClaimCode, RetryLater, DeviceNotAuthentic, ProvisioningTimeout, LinkError.
        """
        _, code = claimcode.parse(claim_code, expected_device_id=self.device_id)
        self._session = self._candidate = None
        private, client_pub = crypto.keypair(self._fixed_private_key)
        hello = await self._request(
            "prov-session", {"op": "hello", "client_pub": client_pub.hex()}, sealed=False
        )
        device_pub = _unhex(hello.get("device_pub"), "device_pub")
        device_id = hello.get("device_id")
        if not isinstance(device_id, str):
            raise ProtocolError(failure(Code.CONTROLLER_NO_DEVICE_ID))
        if self.device_id and device_id.upper() != self.device_id.upper():
            raise DeviceNotAuthentic()
        qr_device, _ = claimcode.parse(claim_code)
        if qr_device and qr_device != device_id.upper():
            raise ClaimCodeForOtherDevice(
                failure(Code.LABEL_OF_OTHER_DEVICE, label=qr_device, picked=device_id)
            )
        try:
            shared = crypto.shared_secret(private, device_pub)
        except ValueError as exc:
            raise DeviceNotAuthentic() from exc
        th = crypto.transcript_hash(device_id, client_pub, device_pub)
        keys = crypto.derive_keys(shared, code, th)
        self._candidate = crypto.ClientSession(keys)
        try:
            reply = await self._request(
                "prov-session",
                {"op": "confirm", "mac": crypto.confirm_mac(keys.conf_c, b"client", th).hex()},
                sealed=False,
            )
            device_mac = _unhex(reply.get("mac"), "mac")
            if not hmac.compare_digest(device_mac, crypto.confirm_mac(keys.conf_d, b"device", th)):
                raise DeviceNotAuthentic()
        except BaseException:
            self._candidate = None
            raise
        self.device_id = device_id
        self._session, self._candidate = self._candidate, None

    async def scan_wifi(self, *, refresh: bool = True) -> list[WifiNetwork]:
        """The networks the controller hears, strongest first (all pages)."""
        networks: list[WifiNetwork] = []
        page, pages = 0, 1
        while page < min(pages, _MAX_SCAN_PAGES):
            reply = await self._request(
                "prov-scan",
                {"op": "scan", "page": page, "refresh": refresh and page == 0},
                sealed=True,
                timeout_s=self.slow_timeout,
            )
            try:
                pages = int(reply["pages"])
                networks.extend(
                    WifiNetwork(str(n["ssid"]), int(n["rssi"]), str(n["security"]))
                    for n in reply["networks"]
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ProtocolError(failure(Code.CONTROLLER_WIFI_LIST_UNREADABLE)) from exc
            page += 1
        return networks

    async def send_binding(
        self, binding: Binding | Mapping[str, Any], *, wait: bool = False, timeout_s: float = 60.0
    ) -> StatusEvent | None:
        """Send the binding. With wait=True, return the first `mqtt_connected` or `failed` event."""
        body = binding.to_json() if isinstance(binding, Binding) else dict(binding)
        return await self._apply({"op": "binding", "binding": body}, wait, timeout_s)

    async def send_wifi(
        self, ssid: str, password: str, *, wait: bool = False, timeout_s: float = 60.0
    ) -> StatusEvent | None:
        """New Wi-Fi for a bound controller; its binding stays as it is."""
        return await self._apply(
            {"op": "wifi", "ssid": ssid, "password": password}, wait, timeout_s
        )

    async def restore(self) -> bool:
        """Undo this session's `send_binding`/`send_wifi`: the controller stores the settings it
        had before the first of them (a new controller: none, so it is unbound again; a Change
        Wi-Fi: the old network) and reconnects with them. True if there was something to undo.

        Only within the session that sent them: once it ends (close, disconnect, a new
        `open_session`) the sent settings are final. Raises DeviceError("unknown_op") on
        firmware without the `restore` capability.
        """
        reply = await self._request(
            "prov-config", {"op": "restore"}, sealed=True, timeout_s=self.slow_timeout
        )
        return reply.get("restored") is True

    async def status(self) -> StatusEvent:
        """Ask the controller for its current connection state."""
        reply = await self._request("prov-config", {"op": "status"}, sealed=True)
        return _status_from(reply)

    def watch_status(self) -> StatusWatch:
        """Start collecting status events now (create it before the request that causes them)."""
        watch = StatusWatch(self)
        self._watches.add(watch)
        return watch

    def on_status(self, callback: Callable[[StatusEvent], None]) -> Callable[[], None]:
        """Call `callback(event)` for every status event; returns a function that unsubscribes."""
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback) if callback in self._callbacks else None

    async def close(self) -> None:
        """End the session (the controller forgets its keys). Never raises for a lost link."""
        if self._session is not None:
            with contextlib.suppress(ProvisioningError):
                await self._request("prov-ctrl", {"op": "end"}, sealed=True, timeout_s=3.0)
        self._session = self._candidate = None

    def connection_lost(self, reason: str | Failure = _LINK_LOST) -> None:
        """Tell the client the link is gone: waiting requests fail at once with LinkError."""
        self._session = self._candidate = None
        self._subscribed = False
        for reassembler in self._reassemblers.values():
            reassembler.reset()
        for _req_id, _sealed, future in list(self._waiting.values()):
            if not future.done():
                future.set_exception(LinkError(reason))

    # -- internals -------------------------------------------------------------------------
    async def _apply(self, obj: dict[str, Any], wait: bool, timeout_s: float) -> StatusEvent | None:
        watch = self.watch_status() if wait else None
        try:
            await self._request("prov-config", obj, sealed=True, timeout_s=self.slow_timeout)
            if watch is None:
                return None
            return await watch.until(FINAL_STATES, timeout_s)
        finally:
            if watch is not None:
                watch.close()

    async def _ensure_subscribed(self) -> None:
        if self._subscribed:
            return
        for name in (*REQUEST_ENDPOINTS, STATUS_ENDPOINT):
            await self._link.subscribe(name, functools.partial(self._notified, name))
        self._subscribed = True

    async def _request(
        self, endpoint: str, obj: dict[str, Any], *, sealed: bool, timeout_s: float | None = None
    ) -> dict[str, Any]:
        message = json.dumps({"v": VERSION, **obj}, separators=(",", ":")).encode()
        async with self._lock:
            if sealed and self._session is None:
                raise SessionRequired(failure(Code.SESSION_REQUIRED))
            await self._ensure_subscribed()
            self._req_id = (self._req_id + 1) & 0xFF
            req_id = self._req_id
            if sealed:
                assert self._session is not None
                payload = self._session.seal(endpoint, message)
            else:
                payload = bytes([crypto.KIND_PLAIN]) + message
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._waiting[endpoint] = (req_id, sealed, future)
            try:
                for frame in framing.split(payload, req_id, self._link.mtu):
                    await self._link.write(endpoint, frame)
                reply = await asyncio.wait_for(future, timeout_s or self.timeout)
            except TimeoutError:
                raise ProvisioningTimeout(failure(Code.CONTROLLER_NO_ANSWER)) from None
            finally:
                self._waiting.pop(endpoint, None)
        if reply.get("op") == "error":
            self._raise_device_error(reply)
        return reply

    def _raise_device_error(self, reply: dict[str, Any]) -> None:
        code = str(reply.get("code", ""))
        message = str(reply.get("message", "the controller refused the request"))
        retry_after = _seconds(reply.get("retry_after_ms"))
        if code == "auth_failed":
            raise WrongClaimCode(retry_after)
        if code == "retry_later":
            raise RetryLater(retry_after)
        if code in ("no_session", "bad_record"):
            self._session = None
            raise SessionRequired(failure(Code.SECURE_SESSION_ENDED))
        if code in ("invalid", "not_bound", "busy", "internal", "unknown_op"):
            raise DeviceError(code, _device_message(code, message), reply.get("field"))
        raise ProtocolError(failure(Code.CONTROLLER_PROTOCOL_ERROR, error=code, detail=message))

    def _notified(self, endpoint: str, data: bytes) -> None:
        done = self._reassemblers[endpoint].feed(bytes(data))
        if done is None:
            return
        req_id, message = done
        waiting = self._waiting.get(endpoint)
        future = waiting[2] if waiting and waiting[0] == req_id else None
        try:
            obj, sealed = self._decode(endpoint, message)
        except ProvisioningError as exc:
            log.debug("dropped a notification on %s: %s", endpoint, exc)
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        if endpoint == STATUS_ENDPOINT:
            if sealed and obj.get("op") == "status":
                self._dispatch_status(_status_from(obj))
            return
        if future is None or future.done():
            return
        if waiting and waiting[1] and not sealed and obj.get("op") != "error":
            future.set_exception(ProtocolError(failure(Code.CONTROLLER_ANSWERED_IN_CLEAR)))
            return
        changed = obj.get("op") in _SETTINGS_OPS and obj.get("restored") is not False
        if endpoint == "prov-config" and changed:  # (a restore with nothing to undo: no change)
            for watch in self._watches:  # now, before a later event can be queued
                watch._settings_changed()
        future.set_result(obj)

    def _decode(self, endpoint: str, message: bytes) -> tuple[dict[str, Any], bool]:
        if not message:
            raise _unreadable("empty message")
        sealed = message[0] == crypto.KIND_RECORD
        if sealed:
            session = self._session or self._candidate
            if session is None:
                raise _unreadable("a sealed message arrived without a session")
            try:
                body = session.open(endpoint, message)
            except crypto.RecordRejected as exc:
                raise _unreadable(f"refused: {exc}") from exc
        elif message[0] == crypto.KIND_PLAIN:
            body = message[1:]
        else:
            raise _unreadable("unknown message kind")
        try:
            obj = json.loads(body.decode())
        except (UnicodeDecodeError, ValueError) as exc:
            raise _unreadable("not JSON") from exc
        if not isinstance(obj, dict):
            raise _unreadable("JSON that is not an object")
        return obj, sealed

    def _dispatch_status(self, event: StatusEvent) -> None:
        self.last_status = event
        for watch in list(self._watches):
            watch._push(event)
        for callback in list(self._callbacks):
            try:
                callback(event)
            except Exception:
                log.exception("status callback failed")


def _unhex(value: Any, name: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except (TypeError, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ProtocolError(failure(Code.CONTROLLER_MALFORMED, field=name))
    return raw


def _seconds(value: Any) -> float:
    return value / 1000.0 if isinstance(value, int | float) and value > 0 else 0.0


def _status_from(obj: Mapping[str, Any]) -> StatusEvent:
    detail = obj.get("detail")
    return StatusEvent(str(obj.get("state", "")), dict(detail) if isinstance(detail, dict) else {})


def _device_message(code: str, message: str) -> Failure:
    if code == "not_bound":
        return failure(Code.CONTROLLER_NOT_SET_UP)
    if code == "internal":
        return failure(Code.CONTROLLER_FAULT)
    return failure(Code.CONTROLLER_REFUSED_REQUEST, reason=message)
