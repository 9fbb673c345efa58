# The provisioning engine (prov_core) under MicroPython, with the real controller as its host
# (on the board stand-ins), driven by a small client written here from docs/provisioning.md:
# error answers, field names, and the rules §4-§7 spell out. PD_TMP: a scratch folder.
import json
import os

import crypto_x25519
import fw_controller
import prov_core
import prov_frame
import prov_session
from mpyunit import case, eq, h, hx, main

CLAIM = "KQ4M7XTZ2PB6WRHD"
CLIENT_PRIVATE = h("a8abababababababababababababababababababababababababababababab6b")
DEVICE_PRIVATE = h("c8cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd4d")
GOOD = {
    "ssid": "PoolNet",
    "password": "poolpass123",
    "broker_url": "mqtt://127.0.0.1:1883",
    "mqtt_user": "",
    "mqtt_password": "",
    "client_id": "dev-esp-a1b2c3",
    "topic_prefix": "users/john/devices/esp-a1b2c3",
    "username": "john",
    "ca_cert": None,
}
_n = [0]


def controller():
    _n[0] += 1
    root = os.getenv("PD_TMP") + "/flash%d" % _n[0]
    os.mkdir(root)
    with open(root + "/factory.json", "w") as f:
        f.write(json.dumps({"device_id": "ESP-A1B2C3", "claim_code": CLAIM}))
    return fw_controller.Controller(root, ble=False)


def binding(**changes):
    b = dict(GOOD)
    b.update(changes)
    return b


class Client:
    """The client side of docs/provisioning.md, as little as these tests need."""

    def __init__(self, core, mtu=23):
        self.core = core
        self.mtu = mtu
        self.req_id = 0
        self.keys = None
        self.seq = 0
        self.last_d2c = 0
        self.events = []  # frames the device sent on prov-status

    async def frames(self, endpoint, frames):
        """Write frames; -> the messages the device answered on `endpoint`, reassembled."""
        out = []
        for f in frames:
            out += await self.core.on_write(endpoint, f)
        parts, messages = {}, []
        for ep, f in out:
            if ep != endpoint:
                self.events.append((ep, f))
                continue
            parts.setdefault(f[0], []).append(f[4:])
            if f[1] & 1:
                messages.append((f[0], b"".join(parts.pop(f[0]))))
        return messages

    async def send(self, endpoint, message):
        self.req_id = (self.req_id + 1) & 0xFF
        return await self.frames(endpoint, prov_frame.split(message, self.req_id, self.mtu))

    def decode(self, endpoint, message):
        if message[0] == prov_session.KIND_PLAIN:
            return json.loads(message[1:])
        eq(message[0], prov_session.KIND_RECORD, "kind")
        seq, body = prov_session.open_record(
            self.keys[2], self.keys[3], endpoint, message, self.last_d2c
        )
        self.last_d2c = seq
        return json.loads(body)

    async def plain(self, endpoint, obj):
        [(req_id, message)] = await self.send(endpoint, b"\x01" + json.dumps(obj).encode())
        eq(req_id, self.req_id, "request id echoed")
        return self.decode(endpoint, message)

    def seal(self, endpoint, obj, seq=None):
        if seq is None:
            self.seq += 1
            seq = self.seq
        return prov_session.seal(
            self.keys[0], self.keys[1], endpoint, seq, json.dumps(obj).encode()
        )

    async def sealed(self, endpoint, obj):
        answers = await self.send(endpoint, self.seal(endpoint, obj))
        eq(len(answers), 1, "one answer")
        return self.decode(endpoint, answers[0][1])

    async def open(self, claim=CLAIM):
        client_pub = crypto_x25519.public_key(CLIENT_PRIVATE)
        hello = await self.plain(
            "prov-session", {"v": 1, "op": "hello", "client_pub": hx(client_pub)}
        )
        eq(hello["op"], "hello", "hello answer")
        device_pub = h(hello["device_pub"])
        shared = crypto_x25519.x25519(CLIENT_PRIVATE, device_pub)
        th = prov_session.transcript_hash("ESP-A1B2C3", client_pub, device_pub)
        keys = prov_session.derive_keys(shared, claim, th)
        mac = prov_session.confirm_mac(keys[4], b"client", th)
        answer = await self.plain("prov-session", {"v": 1, "op": "confirm", "mac": hx(mac)})
        if answer["op"] == "confirm":
            self.keys, self.seq, self.last_d2c = keys, 0, 0
        return answer


def new_core(host=None):
    host = host or controller()
    return prov_core.ProvCore(host, urandom=lambda n: DEVICE_PRIVATE, now_ms=lambda: 0), host


# ---- the fixes (issue #10 item 4) --------------------------------------------------------


@case
async def wrong_claim_code_is_answered_auth_failed():
    core, _ = new_core()
    answer = await Client(core).open(claim="KQ4M7XTZ2PB6WRHE")
    eq((answer["op"], answer["code"]), ("error", "auth_failed"), "answer")
    eq(answer["retry_after_ms"], 0, "first failure: no wait")
    assert not core.established


@case
async def a_replayed_record_is_answered_bad_record():
    core, host = new_core()
    c = Client(core)
    await c.open()
    record = c.seal("prov-config", {"v": 1, "op": "status"})
    [(_, first)] = await c.send("prov-config", record)
    eq(c.decode("prov-config", first)["op"], "status", "first copy")
    [(_, again)] = await c.send("prov-config", record)
    eq(again[0], prov_session.KIND_PLAIN, "plaintext error")
    eq(json.loads(again[1:])["code"], "bad_record", "replay")
    assert core.established, "the session stays"


@case
async def every_invalid_answer_names_its_field():
    core, host = new_core()
    c = Client(core)
    await c.open()
    cases = (
        (binding(ssid="\ud800"), "ssid"),  # lone surrogate (JSON allows it)
        (binding(password="pool\udfffpass"), "password"),
        (binding(ssid="x" * 33), "ssid"),
        (binding(password="é" * 32), "password"),  # 32 characters, 64 bytes
        (binding(topic_prefix="Users/John"), "topic_prefix"),  # refused by the controller
        (binding(topic_prefix="users//x"), "topic_prefix"),
        (binding(broker_url="mqtt://broker:0"), "broker_url"),
        (binding(broker_url="mqtts://broker:8883"), "ca_cert"),
        (binding(client_id=""), "client_id"),
        ("not an object", "binding"),
    )
    for b, field in cases:
        answer = await c.sealed("prov-config", {"v": 1, "op": "binding", "binding": b})
        eq(
            (answer["op"], answer.get("code"), answer.get("field")),
            ("error", "invalid", field),
            "answer to %r" % (b if isinstance(b, str) else {k: b[k] for k in b if b[k] != GOOD[k]}),
        )
        assert answer["message"], answer["message"]
        assert "codec" not in answer["message"], answer["message"]
    assert not host.bound, "nothing was stored"
    answer = await c.sealed("prov-scan", {"v": 1, "op": "scan", "page": -1})
    eq(answer.get("field"), "page", "scan page")


@case
async def topic_prefix_up_to_256_bytes():
    core, host = new_core()
    c = Client(core)
    await c.open()
    long_prefix = "users/" + "a" * 250
    eq(len(long_prefix), 256, "length")
    answer = await c.sealed(
        "prov-config", {"v": 1, "op": "binding", "binding": binding(topic_prefix=long_prefix + "b")}
    )
    eq((answer.get("code"), answer.get("field")), ("invalid", "topic_prefix"), "257 bytes")
    answer = await c.sealed(
        "prov-config", {"v": 1, "op": "binding", "binding": binding(topic_prefix=long_prefix)}
    )
    eq(answer, {"v": 1, "op": "binding", "accepted": True}, "256 bytes")
    eq(host.stored_binding()["topic_prefix"], long_prefix, "stored")


# ---- what docs/provisioning.md now spells out (issue #10 item 5) --------------------------


@case
async def a_sealed_message_is_the_record_itself():
    core, _ = new_core()
    c = Client(core)
    await c.open()
    record = c.seal("prov-config", {"v": 1, "op": "status"})
    eq(record[0], 0x02, "the record's own first byte is the kind")
    answer = await c.sealed("prov-config", {"v": 1, "op": "status"})
    eq(answer["op"], "status", "one 0x02")
    [(_, doubled)] = await c.send("prov-config", b"\x02" + c.seal("prov-config", {"v": 1}))
    eq(json.loads(doubled[1:])["code"], "bad_record", "two 0x02")


@case
async def one_sequence_counter_per_direction_for_all_endpoints():
    core, _ = new_core()
    c = Client(core)
    await c.open()
    eq((await c.sealed("prov-config", {"v": 1, "op": "status"}))["op"], "status", "seq 1")
    # seq 1 again, on another endpoint: a replay all the same
    [(_, again)] = await c.send("prov-ctrl", c.seal("prov-ctrl", {"v": 1, "op": "identify"}, 1))
    eq(json.loads(again[1:])["code"], "bad_record", "seq shared across endpoints")
    before = c.last_d2c
    eq((await c.sealed("prov-ctrl", {"v": 1, "op": "identify", "seconds": 1}))["ok"], True, "ok")
    eq(c.last_d2c, before + 1, "device counter continues across endpoints")


@case
async def reassembly_is_per_endpoint():
    core, _ = new_core()
    c = Client(core)
    await c.open()
    a = prov_frame.split(c.seal("prov-config", {"v": 1, "op": "status"}), 40, 23)
    b = prov_frame.split(c.seal("prov-ctrl", {"v": 1, "op": "identify", "seconds": 1}), 41, 23)
    assert len(a) > 2
    assert len(b) > 2
    assert len(a) < len(b), "the config record completes first (it has the lower seq)"
    got_a, got_b = [], []
    for i in range(len(b)):  # interleaved, frame by frame
        if i < len(a):
            got_a += await c.frames("prov-config", [a[i]])
        got_b += await c.frames("prov-ctrl", [b[i]])
    eq(len(got_a), 1, "prov-config answered")
    eq(len(got_b), 1, "prov-ctrl answered")
    eq(c.decode("prov-config", got_a[0][1])["op"], "status", "config answer")
    eq(c.decode("prov-ctrl", got_b[0][1])["op"], "identify", "ctrl answer")


@case
async def a_stray_frame_gets_bad_frame_with_its_own_id():
    core, _ = new_core()
    c = Client(core)
    [(req_id, message)] = await c.frames("prov-ctrl", [b"\x33\x01\x00\x02{}"])
    eq(req_id, 0x33, "non-zero index without a message: answered with the frame's id")
    eq(json.loads(message[1:])["code"], "bad_frame", "code")
    [(req_id, message)] = await c.frames("prov-ctrl", [b"\x44\x01"])
    eq((req_id, json.loads(message[1:])["code"]), (0x44, "bad_frame"), "short frame: its byte 0")
    [(req_id, message)] = await c.frames("prov-ctrl", [b""])
    eq((req_id, json.loads(message[1:])["code"]), (0, "bad_frame"), "empty frame: id 0")


@case
async def reserved_flag_bits_are_ignored():
    core, _ = new_core()
    c = Client(core)
    frame = b"\x07\xfd\x00\x00" + b'\x01{"v":1,"op":"identify","seconds":1}'  # LAST + 0xFC
    [(req_id, message)] = await c.frames("prov-ctrl", [frame])
    eq((req_id, json.loads(message[1:])), (7, {"v": 1, "op": "identify", "ok": True}), "answer")


@case
async def a_low_order_client_key_is_refused_at_hello():
    core, _ = new_core()
    c = Client(core)
    answer = await c.plain("prov-session", {"v": 1, "op": "hello", "client_pub": "00" * 32})
    eq((answer["op"], answer["code"]), ("error", "bad_message"), "all-zero shared secret")
    answer = await c.plain("prov-session", {"v": 1, "op": "confirm", "mac": "00" * 32})
    eq(answer["code"], "no_session", "no pending hello after the refusal")
    eq(core._limiter.failures, 0, "not an attempt")


@case
async def a_malformed_confirm_is_not_an_attempt_and_keeps_the_hello():
    core, _ = new_core()
    c = Client(core)
    client_pub = crypto_x25519.public_key(CLIENT_PRIVATE)
    await c.plain("prov-session", {"v": 1, "op": "hello", "client_pub": hx(client_pub)})
    answer = await c.plain("prov-session", {"v": 1, "op": "confirm", "mac": "xyz"})
    eq((answer["op"], answer["code"]), ("error", "bad_message"), "malformed mac")
    eq(core._limiter.failures, 0, "not counted")
    # the pending hello is still there: a proper confirm completes the session
    device_pub = crypto_x25519.public_key(DEVICE_PRIVATE)
    shared = crypto_x25519.x25519(CLIENT_PRIVATE, device_pub)
    th = prov_session.transcript_hash("ESP-A1B2C3", client_pub, device_pub)
    keys = prov_session.derive_keys(shared, CLAIM, th)
    mac = prov_session.confirm_mac(keys[4], b"client", th)
    answer = await c.plain("prov-session", {"v": 1, "op": "confirm", "mac": hx(mac)})
    eq(answer["op"], "confirm", "confirmed after the malformed one")


@case
async def identify_is_refused_outside_1_to_30_and_plaintext_is_clamped_to_10():
    import time

    core, host = new_core()
    c = Client(core)
    answer = await c.plain("prov-ctrl", {"v": 1, "op": "identify", "seconds": 31})
    eq((answer.get("code"), answer.get("field")), ("invalid", "seconds"), "31 s")
    answer = await c.plain("prov-ctrl", {"v": 1, "op": "identify", "seconds": 0})
    eq((answer.get("code"), answer.get("field")), ("invalid", "seconds"), "0 s")
    answer = await c.plain("prov-ctrl", {"v": 1, "op": "identify", "seconds": 30})
    eq(answer["ok"], True, "30 s plaintext")
    left = time.ticks_diff(host.identify_until, time.ticks_ms())
    assert 9000 <= left <= 10000, left  # clamped to 10 s
    await c.open()
    eq((await c.sealed("prov-ctrl", {"v": 1, "op": "identify", "seconds": 30}))["ok"], True, "")
    left = time.ticks_diff(host.identify_until, time.ticks_ms())
    assert 29000 <= left <= 30000, left


class ScanHost:
    device_id, claim_code, fw_version, bound = "ESP-A1B2C3", CLAIM, "0.4.0", False

    def __init__(self, results):
        self.results = results
        self.scans = 0

    async def wifi_scan(self):
        self.scans += 1
        return self.results

    def identify(self, seconds):
        pass


@case
async def scan_pages_deduplication_and_out_of_range_pages():
    nets = [("Net%02d" % i, -40 - i, "wpa2-psk") for i in range(10)]
    nets += [("Net03", -20, "wpa2-psk"), ("", -10, "open"), (b"Net04", -30, "wpa2-psk")]
    host = ScanHost(nets)
    core, _ = new_core(host)
    c = Client(core)
    await c.open()
    first = await c.sealed("prov-scan", {"v": 1, "op": "scan", "page": 0})
    eq((first["pages"], first["total"]), (2, 10), "one entry per SSID, hidden left out")
    eq(first["networks"][0], {"ssid": "Net03", "rssi": -20, "security": "wpa2-psk"}, "strongest")
    second = await c.sealed("prov-scan", {"v": 1, "op": "scan", "page": 1})
    eq(len(second["networks"]), 2, "last page")
    eq(host.scans, 1, "page 1 comes from the scan of page 0")
    answer = await c.sealed("prov-scan", {"v": 1, "op": "scan", "page": 2})
    eq((answer.get("code"), answer.get("field")), ("invalid", "page"), "page past the end")


main()
