# The provisioning protocol engine, device side: frames in, frames out (docs/provisioning.md).
# No radio here: prov.py feeds it GATT writes and sends what it returns as notifications.
import binascii
import json
import os
import time

import prov_check
import prov_frame
import prov_session

SERVICE_UUID = "96271c13-a0f2-460a-af83-c4d98eedeb91"
ENDPOINTS = (
    ("device-info", "96270001-a0f2-460a-af83-c4d98eedeb91"),
    ("prov-session", "96270002-a0f2-460a-af83-c4d98eedeb91"),
    ("prov-config", "96270003-a0f2-460a-af83-c4d98eedeb91"),
    ("prov-scan", "96270004-a0f2-460a-af83-c4d98eedeb91"),
    ("prov-ctrl", "96270005-a0f2-460a-af83-c4d98eedeb91"),
    ("prov-status", "96270006-a0f2-460a-af83-c4d98eedeb91"),
)
REQUEST_ENDPOINTS = ("prov-session", "prov-config", "prov-scan", "prov-ctrl")
STATUS_ENDPOINT = "prov-status"
VERSION = 1
PAGE_SIZE = 8
MANUFACTURER_ID = 0xFFFF
CAPS = ["wifi_scan", "binding", "wifi_update", "identify", "ca_cert", "restore"]
STATES = ("idle", "connecting", "wifi_connected", "mqtt_connected", "failed")
REASONS = ("wifi_auth", "wifi_not_found", "no_ip", "broker_unreachable", "broker_auth")


class _Reply(Exception):
    """An error answer; raised inside handlers, turned into an error message."""

    def __init__(self, code, message, extra=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


def monotonic_ms():
    ticks = getattr(time, "ticks_ms", None)
    if ticks is not None:
        return ticks()
    return int(time.monotonic() * 1000)


def _clock_diff():
    """time.ticks_diff on MicroPython (ticks wrap around), plain subtraction elsewhere."""
    return getattr(time, "ticks_diff", None)


def _encode(obj):
    return json.dumps(obj).encode()


def _ascii(data):
    for b in data:
        if b >= 0x80:
            return False
    return True


def _decode(data):
    try:
        if isinstance(data, memoryview) and _ascii(data):
            try:  # MicroPython parses a buffer where it lies: no text copy of an 8 KB message
                obj = json.loads(data)
            except TypeError:  # CPython's json takes no memoryview
                obj = json.loads(str(data, "utf-8"))
        else:
            obj = json.loads(str(data, "utf-8"))  # checks the UTF-8 as it decodes
    except Exception:  # noqa - any malformed input (also RecursionError, UnicodeError)
        raise _Reply("bad_message", "message is not UTF-8 JSON")
    if not isinstance(obj, dict) or not isinstance(obj.get("op"), str):
        raise _Reply("bad_message", "message must be a JSON object with an op")
    if obj.get("v") != VERSION:
        raise _Reply("unsupported_version", "protocol version 1 is the one spoken here",
                     {"proto": [VERSION]})
    return obj


def _error(code, message, extra=None):
    obj = {"v": VERSION, "op": "error", "code": code, "message": message}
    if extra:
        for key in extra:
            obj[key] = extra[key]
    return obj


def _unhex32(obj, field):
    value = obj.get(field)
    if not isinstance(value, str) or len(value) != 64:
        raise _Reply("bad_message", "%s must be 64 hex digits" % field)
    try:
        return binascii.unhexlify(value)
    except Exception:  # noqa
        raise _Reply("bad_message", "%s must be 64 hex digits" % field)


def _hex(data):
    return binascii.hexlify(data).decode()


def manufacturer_data(device_id, bound):
    """`PD`, format 1, flags (bit 0 bound), the 3 bytes of the device id."""
    tail = binascii.unhexlify(device_id[-6:])
    return b"PD" + bytes([1, 1 if bound else 0]) + tail


class ProvCore:
    """One device's protocol state. `host` is the controller (see docs/firmware contract)."""

    def __init__(self, host, urandom=None, now_ms=None):
        self.host = host
        self.mtu = prov_frame.MIN_MTU
        self._urandom = urandom or os.urandom
        if now_ms is None:
            self._limiter = prov_session.AttemptLimiter(monotonic_ms, _clock_diff())
        else:
            self._limiter = prov_session.AttemptLimiter(now_ms)
        self._reassemblers = {}
        for name in REQUEST_ENDPOINTS:
            self._reassemblers[name] = prov_frame.Reassembler()
        self._status = ("idle", {})
        self._event_id = 0
        self._scan = None
        self.reset()

    # -- connection lifecycle -------------------------------------------------------------
    def reset(self):
        """Forget the session and every unfinished message (a peer connected or left)."""
        self.session = None
        self._pending = None
        self._scan = None
        for name in self._reassemblers:
            self._reassemblers[name].reset()

    @property
    def established(self):
        return self.session is not None

    def device_info(self):
        return _encode({
            "v": VERSION, "device_id": self.host.device_id, "fw": self.host.fw_version,
            "state": "bound" if self.host.bound else "unbound", "proto": [VERSION],
            "max_msg": prov_frame.MAX_MESSAGE, "caps": CAPS,
        })

    # -- input ------------------------------------------------------------------------------
    async def on_write(self, endpoint, frame):
        """Handle one GATT write. Returns a list of (endpoint, frame) to notify, in order."""
        reassembler = self._reassemblers.get(endpoint)
        if reassembler is None:
            return []
        try:
            done = reassembler.feed(bytes(frame))
        except prov_frame.FrameError as e:
            return self._frames(endpoint, e.req_id, self._plain(_error(e.code, e.message)))
        if done is None:
            return []
        req_id, message = done
        return self._frames(endpoint, req_id, await self._on_message(endpoint, message))

    async def _on_message(self, endpoint, message):
        if not message:
            return self._plain(_error("bad_message", "empty message"))
        kind = message[0]
        if kind == prov_session.KIND_PLAIN:
            try:
                return self._plain(await self._on_plain(endpoint, _decode(message[1:])))
            except _Reply as r:
                return self._plain(_error(r.code, r.message, r.extra))
            except Exception:  # noqa - never let a peer's message stop the service
                return self._plain(_error("internal", "the device could not do that"))
        if kind == prov_session.KIND_RECORD:
            session = self.session  # kept: a disconnect may reset the core while the host works
            if session is None:
                return self._plain(_error("no_session", "no secure session; start with hello"))
            try:
                body = session.open(endpoint, message)
            except prov_session.SessionError as e:
                return self._plain(_error(e.code, e.message))
            try:
                reply = await self._on_sealed(endpoint, _decode(body), session)
            except _Reply as r:
                reply = _error(r.code, r.message, r.extra)
            except prov_check.CheckError as e:
                reply = _error("invalid", e.message, {"field": e.field})
            except ValueError as e:  # the host's own checks refused it; nothing was stored
                reply = _error("invalid", str(e), {"field": getattr(e, "field", None) or "binding"})
            except Exception:  # noqa - the host failed; report without details, apply nothing more
                reply = _error("internal", "the device could not do that")
            return self._sealed(endpoint, reply, session)
        return self._plain(_error("bad_message", "unknown message kind"))

    # -- plaintext requests ---------------------------------------------------------------
    async def _on_plain(self, endpoint, obj):
        op = obj["op"]
        if endpoint == "prov-session":
            if op == "hello":
                return await self._hello(obj)
            if op == "confirm":
                return self._confirm(obj)
            raise _Reply("unknown_op", "unknown request %s" % op[:32])
        if endpoint == "prov-ctrl" and op == "identify":
            try:
                seconds = prov_check.check_int(obj, "seconds", 5, 1, 30)
            except prov_check.CheckError as e:
                raise _Reply("invalid", e.message, {"field": e.field})
            self.host.identify(min(seconds, 10))
            return {"v": VERSION, "op": "identify", "ok": True}
        raise _Reply("no_session", "this request needs a secure session")

    async def _hello(self, obj):
        self.session = None
        self._pending = None
        wait = self._limiter.retry_after_ms()
        if wait:
            raise _Reply("retry_later",
                         "too many wrong claim codes, try again in %d s" % ((wait + 999) // 1000),
                         {"retry_after_ms": wait})
        client_pub = _unhex32(obj, "client_pub")
        if not isinstance(self.host.claim_code, str) or not self.host.claim_code:
            raise _Reply(
                "internal", "this controller has no claim code; its factory data is missing"
            )
        try:
            device_pub, pending = await prov_session.start_handshake(
                self.host.device_id, self.host.claim_code, client_pub, self._urandom)
        except prov_session.SessionError as e:
            raise _Reply(e.code, e.message)
        self._pending = pending
        return {"v": VERSION, "op": "hello", "device_pub": _hex(device_pub),
                "device_id": self.host.device_id}

    def _confirm(self, obj):
        pending = self._pending
        if pending is None:
            raise _Reply("no_session", "confirm without hello")
        mac = _unhex32(obj, "mac")
        self._pending = None
        if not pending.check_client(mac):
            wait = self._limiter.failed()
            raise _Reply("auth_failed", "wrong claim code", {"retry_after_ms": wait})
        self._limiter.succeeded()
        self.session = prov_session.Session(pending.keys)
        return {"v": VERSION, "op": "confirm", "mac": _hex(pending.device_mac())}

    # -- sealed requests -------------------------------------------------------------------
    async def _on_sealed(self, endpoint, obj, session):
        op = obj["op"]
        if endpoint == "prov-scan" and op == "scan":
            return await self._wifi_scan(obj)
        if endpoint == "prov-config":
            if op == "binding":
                binding = prov_check.check_binding(obj.get("binding"))
                await self._apply(session, self.host.apply_binding, binding)
                return {"v": VERSION, "op": "binding", "accepted": True}
            if op == "wifi":
                if not self.host.bound:
                    raise _Reply("not_bound", "this device has no binding yet; send a binding")
                ssid, password = prov_check.check_wifi(obj)
                await self._apply(session, self.host.apply_wifi, ssid, password)
                return {"v": VERSION, "op": "wifi", "accepted": True}
            if op == "restore":
                return await self._restore(session)
            if op == "status":
                return self._status_message()
        if endpoint == "prov-ctrl":
            if op == "identify":
                self.host.identify(prov_check.check_int(obj, "seconds", 5, 1, 30))
                return {"v": VERSION, "op": "identify", "ok": True}
            if op == "end":
                return {"v": VERSION, "op": "end", "ok": True}
        raise _Reply("unknown_op", "unknown request %s on %s" % (op[:32], endpoint))

    async def _apply(self, session, apply, *args):
        """Apply new settings; the first time in a session, keep an undo point before."""
        first = session.undo is None
        if first:
            session.undo = (self.host.settings_snapshot(),)
        try:
            await apply(*args)
        except ValueError:
            if first:  # refused by the host: nothing was stored, nothing to undo
                session.undo = None
            raise

    async def _restore(self, session):
        """Put back the settings the device had before this session's first binding/wifi."""
        restored = session.undo is not None
        if restored:
            await self.host.restore_settings(session.undo[0])
            session.undo = None
        return {"v": VERSION, "op": "restore", "restored": restored,
                "state": "bound" if self.host.bound else "unbound"}

    async def _wifi_scan(self, obj):
        page = prov_check.check_int(obj, "page", 0, 0, 1000)
        refresh = obj.get("refresh") is True
        if page == 0 or refresh or self._scan is None:
            self._scan = _clean_scan(await self.host.wifi_scan())
        nets = self._scan
        pages = max(1, (len(nets) + PAGE_SIZE - 1) // PAGE_SIZE)
        if page >= pages:
            raise prov_check.CheckError("page", "page must be below %d" % pages)
        return {"v": VERSION, "op": "scan", "page": page, "pages": pages, "total": len(nets),
                "networks": nets[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]}

    # -- status ----------------------------------------------------------------------------
    def _status_message(self):
        state, detail = self._status
        return {"v": VERSION, "op": "status", "state": state, "detail": detail}

    def status_event(self, state, detail=None):
        """Record the device's connection state; returns frames for prov-status (if a session)."""
        self._status = (state, dict(detail or {}))
        if self.session is None:
            return []
        self._event_id = (self._event_id + 1) & 0xFF
        return self._frames(STATUS_ENDPOINT, self._event_id,
                            self._sealed(STATUS_ENDPOINT, self._status_message()))

    # -- output ----------------------------------------------------------------------------
    def _plain(self, obj):
        return bytes([prov_session.KIND_PLAIN]) + _encode(obj)

    def _sealed(self, endpoint, obj, session=None):
        session = session or self.session
        record = session.seal(endpoint, _encode(obj))
        if obj.get("op") == "end" and self.session is session:
            self.session = None
        return record

    def _frames(self, endpoint, req_id, message):
        return [(endpoint, f) for f in prov_frame.split(message, req_id, self.mtu)]


def _clean_scan(results):
    """Strongest first, one entry per SSID, hidden networks left out."""
    best = {}
    for item in results or []:
        try:
            ssid, rssi, security = item[0], item[1], item[2]
        except Exception:  # noqa - tolerate a malformed host entry
            continue
        if isinstance(ssid, (bytes, bytearray)):
            try:
                ssid = bytes(ssid).decode()
            except Exception:  # noqa
                continue
        if not ssid or not isinstance(rssi, int):
            continue
        if ssid not in best or best[ssid]["rssi"] < rssi:
            best[ssid] = {"ssid": ssid, "rssi": rssi, "security": str(security)}
    nets = list(best.values())
    nets.sort(key=lambda n: -n["rssi"])
    return nets
