# A small MQTT 3.1.1 client on asyncio streams: QoS 0/1 publish with PUBACK and retry,
# subscribe, retained messages, a will, keepalive pings. TLS when given an ssl context.
# Inbound packets are parsed by pure functions (read_packet, parse) that reject anything
# malformed with ProtocolError, whatever bytes the broker sends.

import asyncio

import fw_log

CONNECT, CONNACK, PUBLISH, PUBACK = 1, 2, 3, 4
SUBSCRIBE, SUBACK, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 11, 12, 13, 14
MAX_PACKET = 16384
MAX_INBOX = 64
PINGREQ_PACKET = b"\xc0\x00"
DISCONNECT_PACKET = b"\xe0\x00"


class MQTTError(Exception):
    pass


class ProtocolError(MQTTError):
    pass


class ConnectRefused(MQTTError):
    """CONNACK with a non-zero return code (4 = bad user name or password, 5 = not authorized)."""

    def __init__(self, code):
        super().__init__("broker refused the connection (code %d)" % code)
        self.code = code

    @property
    def auth(self):
        return self.code in (4, 5)


# ---- encoding ----

def _varlen(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(s):
    if isinstance(s, str):
        s = s.encode()
    if len(s) > 65535:
        raise ValueError("MQTT field longer than 65535 bytes")
    return len(s).to_bytes(2, "big") + s


def packet(first, body):
    return bytes([first]) + _varlen(len(body)) + body


def connect_packet(client_id, user=None, password=None, keepalive=30, will=None, clean=True):
    flags = 0x02 if clean else 0
    payload = _field(client_id)
    if will is not None:
        topic, message, qos, retain = will
        flags |= 0x04 | (qos << 3) | (0x20 if retain else 0)
        payload += _field(topic) + _field(message)
    if user is not None:
        flags |= 0x80
        payload += _field(user)
        if password is not None:
            flags |= 0x40
            payload += _field(password)
    head = _field("MQTT") + bytes([4, flags]) + keepalive.to_bytes(2, "big")
    return packet(CONNECT << 4, head + payload)


def publish_packet(topic, payload, qos=0, retain=False, pid=0, dup=False):
    if isinstance(payload, str):
        payload = payload.encode()
    first = (PUBLISH << 4) | (qos << 1) | (1 if retain else 0) | (0x08 if dup else 0)
    body = _field(topic)
    if qos:
        body += pid.to_bytes(2, "big")
    return packet(first, body + payload)


def puback_packet(pid):
    return packet(PUBACK << 4, pid.to_bytes(2, "big"))


def subscribe_packet(pid, topics):
    body = pid.to_bytes(2, "big")
    for topic, qos in topics:
        body += _field(topic) + bytes([qos])
    return packet((SUBSCRIBE << 4) | 0x02, body)


# ---- decoding ----

async def read_packet(reader, limit=MAX_PACKET):
    """-> (first byte, body). EOFError at end of stream; ProtocolError on a bad length."""
    first = (await reader.readexactly(1))[0]
    n, mult = 0, 1
    for _ in range(4):
        b = (await reader.readexactly(1))[0]
        n += (b & 0x7F) * mult
        if not b & 0x80:
            break
        mult *= 128
    else:
        raise ProtocolError("remaining length longer than 4 bytes")
    if n > limit:
        raise ProtocolError("packet of %d bytes is over the limit" % n)
    body = await reader.readexactly(n) if n else b""
    return first, body


def _pid(body, at):
    if len(body) < at + 2:
        raise ProtocolError("packet too short for a packet id")
    pid = int.from_bytes(body[at:at + 2], "big")
    if pid == 0:
        raise ProtocolError("packet id 0")
    return pid


def parse(first, body):
    """One packet a broker may send -> a tuple naming it. ProtocolError otherwise."""
    kind, flags = first >> 4, first & 0x0F
    if kind == PUBLISH:
        qos = (flags >> 1) & 3
        if qos == 3:
            raise ProtocolError("PUBLISH with QoS 3")
        if len(body) < 2:
            raise ProtocolError("PUBLISH too short")
        tlen = int.from_bytes(body[0:2], "big")
        if len(body) < 2 + tlen:
            raise ProtocolError("PUBLISH topic runs past the packet")
        try:
            topic = bytes(body[2:2 + tlen]).decode()
        except Exception:
            raise ProtocolError("PUBLISH topic is not UTF-8")
        at, pid = 2 + tlen, 0
        if qos:
            pid = _pid(body, at)
            at += 2
        return ("publish", topic, bytes(body[at:]), qos, bool(flags & 1), pid, bool(flags & 8))
    if flags != 0:
        raise ProtocolError("reserved flags set on packet type %d" % kind)
    if kind == CONNACK:
        if len(body) != 2:
            raise ProtocolError("CONNACK must be 2 bytes")
        return ("connack", bool(body[0] & 1), body[1])
    if kind == PUBACK:
        if len(body) != 2:
            raise ProtocolError("PUBACK must be 2 bytes")
        return ("puback", _pid(body, 0))
    if kind == SUBACK:
        if len(body) < 3:
            raise ProtocolError("SUBACK too short")
        return ("suback", _pid(body, 0), bytes(body[2:]))
    if kind == UNSUBACK:
        if len(body) != 2:
            raise ProtocolError("UNSUBACK must be 2 bytes")
        return ("unsuback", _pid(body, 0))
    if kind == PINGRESP:
        if body:
            raise ProtocolError("PINGRESP must be empty")
        return ("pingresp",)
    raise ProtocolError("unexpected packet type %d from the broker" % kind)


async def _wait_closed(writer):
    try:
        await writer.wait_closed()
    except Exception:  # already broken: closed either way
        pass


def _nodelay(writer):
    """TCP_NODELAY on the connection's socket: without it each QoS 1 round trip waits ~40 ms."""
    sock = None
    try:
        sock = writer.get_extra_info("socket")
    except Exception:
        pass
    if sock is None:
        sock = getattr(writer, "s", None)
    try:
        import socket
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except Exception:
        pass


class Client:
    """One connection. on_message(topic, payload, retained) is awaited; PUBACK goes after it
    returns. `retained` is the PUBLISH's retain flag: true only for a message the broker had
    stored and replays on subscribing (a live message arrives with it cleared, MQTT 3.1.1 3.3.1.3).
    on_close() is called once when the connection ends, for whatever reason."""

    def __init__(self, host, port, client_id, user=None, password=None, keepalive=30,
                 ssl=None, will=None, on_message=None, on_close=None, timeout_s=10):
        self.host, self.port = host, port
        self.client_id, self.user, self.password = client_id, user, password
        self.keepalive = keepalive
        self.ssl = ssl
        self.will = will
        self.on_message = on_message
        self.on_close = on_close
        self.timeout_s = timeout_s
        self.connected = False
        self._reader = self._writer = None
        self._closing = None   # the writer being closed, and the task that finishes it
        self._close_task = None
        self._lock = asyncio.Lock()
        self._pid = 0
        self._waiting = {}     # pid -> Event, for PUBACK / SUBACK
        self._answers = {}     # pid -> the parsed answer
        self._inbox = []
        self._inbox_ev = asyncio.Event()
        self._tasks = []
        self._rx_seen = self._tx_seen = False

    def _next_pid(self):
        self._pid = self._pid % 65535 + 1
        return self._pid

    async def connect(self):
        if self.ssl is not None:
            opening = asyncio.open_connection(self.host, self.port, ssl=self.ssl,
                                              server_hostname=self.host)
        else:
            opening = asyncio.open_connection(self.host, self.port)
        self._reader, self._writer = await asyncio.wait_for(opening, self.timeout_s)
        _nodelay(self._writer)
        try:
            await self._send(connect_packet(self.client_id, self.user, self.password,
                                            self.keepalive, self.will))
            first, body = await asyncio.wait_for(read_packet(self._reader), self.timeout_s)
            answer = parse(first, body)
            if answer[0] != "connack":
                raise ProtocolError("expected CONNACK")
            if answer[2] != 0:
                raise ConnectRefused(answer[2])
        except Exception:
            self._close_transport()
            if self._close_task is not None:
                await self._close_task
            raise
        except BaseException:  # cancelled: the task finishes closing the socket
            self._close_transport()
            raise
        self.connected = True
        self._tasks = [asyncio.create_task(self._read_loop()),
                       asyncio.create_task(self._dispatch_loop()),
                       asyncio.create_task(self._ping_loop())]

    async def _send(self, data):
        async with self._lock:
            self._writer.write(data)
            await self._writer.drain()
            self._tx_seen = True

    async def _request(self, pid, data):
        """Send a packet that the broker answers with the same pid; retry with DUP."""
        ev = asyncio.Event()
        self._waiting[pid] = ev
        try:
            for _ in range(3):
                if not self.connected:
                    break
                await self._send(data)
                try:
                    await asyncio.wait_for(ev.wait(), self.timeout_s)
                except asyncio.TimeoutError:
                    data = bytes([data[0] | 0x08]) + data[1:] if data[0] >> 4 == PUBLISH else data
                    continue
                if pid in self._answers:
                    return self._answers.pop(pid)
                break
        finally:
            self._waiting.pop(pid, None)
            self._answers.pop(pid, None)
        if self.connected:
            self.abort()
        raise MQTTError("no answer from the broker")

    async def publish(self, topic, payload, retain=False, qos=1):
        if not self.connected:
            raise MQTTError("not connected")
        if qos == 0:
            await self._send(publish_packet(topic, payload, 0, retain))
            return
        pid = self._next_pid()
        await self._request(pid, publish_packet(topic, payload, 1, retain, pid))

    async def subscribe(self, topics, qos=1):
        pid = self._next_pid()
        answer = await self._request(pid, subscribe_packet(pid, [(t, qos) for t in topics]))
        for code in answer[2]:
            if code == 0x80:
                raise MQTTError("the broker refused a subscription")
        return answer[2]

    async def disconnect(self):
        """Clean end: the broker does NOT send the will."""
        if self.connected:
            try:
                await asyncio.wait_for(self._send(DISCONNECT_PACKET), 2)
            except Exception:
                pass
        self._finish()
        if self._close_task is not None:
            await self._close_task

    def abort(self):
        """Drop the connection without DISCONNECT: the broker sends the will."""
        self._finish()

    async def wait_closed(self):
        while self.connected:
            await asyncio.sleep(0.05)
        if self._close_task is not None:
            await self._close_task

    def _close_transport(self):
        """Close the socket. On MicroPython Stream.close() does nothing: the socket is closed
        by `await wait_closed()`, so that always follows (in a task, the caller need not wait)."""
        w = self._writer
        if w is None or w is self._closing:
            return
        self._closing = w
        try:
            w.close()
        except Exception:
            pass
        self._close_task = asyncio.create_task(_wait_closed(w))

    def _finish(self):
        if not self.connected and not self._tasks:
            self._close_transport()
            return
        self.connected = False
        self._close_transport()
        current = asyncio.current_task()
        for t in self._tasks:
            if t is not current:
                t.cancel()
        self._tasks = []
        for ev in self._waiting.values():
            ev.set()
        self._inbox_ev.set()
        if self.on_close is not None:
            self.on_close()

    async def _read_loop(self):
        try:
            while True:
                first, body = await read_packet(self._reader)
                self._rx_seen = True
                answer = parse(first, body)
                kind = answer[0]
                if kind == "publish":
                    if len(self._inbox) < MAX_INBOX:
                        self._inbox.append(answer)
                        self._inbox_ev.set()
                elif kind in ("puback", "suback", "unsuback"):
                    ev = self._waiting.get(answer[1])
                    if ev is not None:
                        self._answers[answer[1]] = answer
                        ev.set()
                elif kind == "connack":
                    raise ProtocolError("second CONNACK")
        except asyncio.CancelledError:
            raise
        except Exception as e:  # EOF, socket error, protocol violation: the connection is over
            fw_log.log("mqtt: connection lost:", repr(e))
        self._finish()

    async def _dispatch_loop(self):
        while True:
            while not self._inbox:
                self._inbox_ev.clear()
                await self._inbox_ev.wait()
                if not self.connected:
                    return
            _, topic, payload, qos, retained, pid, _dup = self._inbox.pop(0)
            if self.on_message is not None:
                try:
                    await self.on_message(topic, payload, retained)
                except asyncio.CancelledError:
                    raise
                except Exception as e:
                    fw_log.log("mqtt: message handler failed:", repr(e))
            if qos == 1 and self.connected:
                try:
                    await self._send(puback_packet(pid))
                except Exception:
                    self._finish()
                    return

    async def _ping_loop(self):
        # Counts real seconds with sleeps rather than reading ticks, so a simulated clock jump
        # (or a slow RTC) cannot make a live connection look dead.
        period = max(1, self.keepalive // 2)
        idle = quiet = 0
        while self.connected:
            await asyncio.sleep(1)
            idle = 0 if self._rx_seen else idle + 1
            quiet = 0 if self._tx_seen else quiet + 1
            self._rx_seen = self._tx_seen = False
            if idle * 2 > self.keepalive * 3:
                fw_log.log("mqtt: broker silent for 1.5 x keepalive")
                self._finish()
                return
            if quiet >= period:
                try:
                    await self._send(PINGREQ_PACKET)
                except Exception:
                    self._finish()
                    return
