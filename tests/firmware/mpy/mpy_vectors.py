# The provisioning vectors (tests/vectors/) checked by the device code under MicroPython.
import asyncio
import json

import crypto_sym
import crypto_x25519
import prov_core
import prov_frame
import prov_session
from mpyunit import case, eq, h, hx, main, vectors


@case
def x25519_rfc7748():
    v = vectors("primitives")
    for c in v["x25519"]:
        eq(hx(crypto_x25519.x25519(h(c["scalar"]), h(c["u"]))), c["out"], "x25519")
    dh = v["x25519_dh"]
    eq(hx(crypto_x25519.public_key(h(dh["alice_private"]))), dh["alice_public"], "alice pub")
    eq(hx(crypto_x25519.public_key(h(dh["bob_private"]))), dh["bob_public"], "bob pub")
    eq(hx(crypto_x25519.x25519(h(dh["alice_private"]), h(dh["bob_public"]))), dh["shared"], "dh")
    eq(hx(crypto_x25519.x25519(h(dh["bob_private"]), h(dh["alice_public"]))), dh["shared"], "dh")


@case
def hmac_rfc4231():
    mac = vectors("primitives")["hmac"]
    eq(hx(crypto_sym.hmac_sha256(h(mac["key"]), h(mac["data"]))), mac["mac"], "hmac")


@case
def hkdf_rfc5869():
    c = vectors("primitives")["hkdf"]
    eq(hx(crypto_sym.hkdf_extract(h(c["salt"]), h(c["ikm"]))), c["prk"], "prk")
    eq(hx(crypto_sym.hkdf(h(c["salt"]), h(c["ikm"]), h(c["info"]), c["length"])), c["okm"], "okm")


@case
def aes256_ctr_on_cryptolib_ecb():
    a = vectors("primitives")["aes_ctr"]
    nonce = a["seq"].to_bytes(4, "big") + bytes(8)
    eq(hx(crypto_sym.aes256_ctr(h(a["key"]), nonce, h(a["plaintext"]))), a["ciphertext"], "enc")
    eq(hx(crypto_sym.aes256_ctr(h(a["key"]), nonce, h(a["ciphertext"]))), a["plaintext"], "dec")


@case
def constant_time_compare():
    assert crypto_sym.equal(b"abc", b"abc")
    assert not crypto_sym.equal(b"abc", b"abd")
    assert not crypto_sym.equal(b"abc", b"abcd")


_KEY_NAMES = ("c2d_enc", "c2d_mac", "d2c_enc", "d2c_mac", "conf_c", "conf_d")


@case
def key_schedule():
    v = vectors("key_schedule")
    shared = crypto_x25519.x25519(h(v["device_private"]), h(v["client_public"]))
    eq(hx(shared), v["shared"], "shared")
    th = prov_session.transcript_hash(v["device_id"], h(v["client_public"]), h(v["device_public"]))
    eq(hx(th), v["th"], "transcript hash")
    keys = prov_session.derive_keys(shared, v["claim_code"], th)
    eq([hx(k) for k in keys], [v[n] for n in _KEY_NAMES], "keys")
    eq(hx(prov_session.confirm_mac(keys[4], b"client", th)), v["client_confirm"], "client mac")
    eq(hx(prov_session.confirm_mac(keys[5], b"device", th)), v["device_confirm"], "device mac")


@case
def replay_reorder_tamper_refused():
    keys = vectors("key_schedule")
    data = vectors("replay")
    session = prov_session.Session([h(keys[n]) for n in _KEY_NAMES])
    for c in data["cases"]:
        try:
            plain = session.open(c["endpoint"], h(c["record"]))
        except prov_session.SessionError as e:
            assert not c["accept"], "refused a good record: %r" % c
            eq(e.code, "bad_record", "code")
        else:
            assert c["accept"], "accepted a bad record: %r" % c
            eq(plain.decode(), data["plaintext"], "plaintext")


class VectorHost:
    """The host the session vector describes: each binding starts an attempt that reports the
    listed status events after the answer."""

    def __init__(self, v):
        self.device_id, self.claim_code, self.fw_version = v["device_id"], v["claim_code"], "0.1.0"
        self.bound = False
        self.scan_results = [tuple(r) for r in v["scan_results"]]
        self.out = []
        self.attempt = []
        self.core = None

    async def wifi_scan(self):
        return self.scan_results

    def settings_snapshot(self):
        return self.bound

    async def apply_binding(self, b):
        self.bound = True
        self.attempt = [("connecting", {})]
        if b["password"] == "wrong-password":
            self.attempt.append(("failed", {"reason": "wifi_auth"}))
        else:
            self.attempt += [("wifi_connected", {"ip": "192.168.4.20"}), ("mqtt_connected", {})]

    def write(self, frames):
        """The answer to a write, then what the attempt it started reports (the firmware's
        link reports only once the provisioning task has queued the answer)."""
        self.out.extend(frames)
        for state, detail in self.attempt:
            self.out.extend(self.core.status_event(state, detail))
        self.attempt = []


def _fixed(private):
    def urandom(n):
        assert n == 32
        return private

    return urandom


def _frame_message(frames):
    """The message carried by a list of frames (their payloads joined)."""
    return b"".join([f[4:] for f in frames])


def _same_json(a, b):
    """Parsed JSON equal (MicroPython dicts do not keep insertion order)."""
    return json.loads(a) == json.loads(b)


@case
async def whole_session_transcript():
    v = vectors("session")
    host = VectorHost(v)
    core = prov_core.ProvCore(host, urandom=_fixed(h(v["device_private"])), now_ms=lambda: 0)
    core.mtu = v["mtu"]
    host.core = core
    steps = v["steps"]
    keys = None
    for i, step in enumerate(steps):
        if step["dir"] != "c2d":
            continue
        for frame in step["frames"]:
            host.write(await core.on_write(step["endpoint"], h(frame)))
        produced = host.out
        host.out = []
        # the device answers of this step: every d2c step up to the next c2d step
        expected = []
        for s in steps[i + 1 :]:
            if s["dir"] == "c2d":
                break
            expected.append(s)
        got = {}
        for endpoint, frame in produced:
            got.setdefault(endpoint, []).append(frame)
        for s in expected:
            frames = got.get(s["endpoint"]) or []
            n = len(s["frames"])
            mine, got[s["endpoint"]] = frames[:n], frames[n:]
            eq(len(mine), n, "frames of step %d" % steps.index(s))
            eq(mine[0][0], s["req_id"], "request id")
            message = _frame_message(mine)
            if not s["sealed"]:
                assert message[0] == 1, "plain answer"
                assert _same_json(message[1:], s["plaintext"]), "step %d: %r" % (
                    steps.index(s),
                    message,
                )
            else:
                if keys is None:
                    keys = _session_keys(v)
                seq = int.from_bytes(message[1:5], "big")
                want_seq = int.from_bytes(h(s["message"])[1:5], "big")
                eq(seq, want_seq, "record counter")
                body = prov_session.open_record(keys[2], keys[3], s["endpoint"], message, 0)[1]
                assert _same_json(body, s["plaintext"]), "step %d: %r" % (steps.index(s), body)
        for endpoint in got:
            eq(got[endpoint], [], "extra frames on " + endpoint)
    assert core.established


def _session_keys(v):
    device_pub = crypto_x25519.public_key(h(v["device_private"]))
    client_pub = crypto_x25519.public_key(h(v["client_private"]))
    shared = crypto_x25519.x25519(h(v["device_private"]), client_pub)
    th = prov_session.transcript_hash(v["device_id"], client_pub, device_pub)
    return prov_session.derive_keys(shared, v["claim_code"], th)


async def _answer(core, endpoint, message, req_id=2):
    out = []
    for frame in prov_frame.split(message, req_id, 23):
        out += await core.on_write(endpoint, frame)
    return _frame_message([f for _, f in out])


@case
async def wrong_claim_code_answered_auth_failed():
    v = vectors("wrong_claim_code")
    session = vectors("session")
    host = VectorHost(session)
    core = prov_core.ProvCore(host, urandom=_fixed(h(v["device_private"])), now_ms=lambda: 0)
    for frame in session["steps"][0]["frames"]:
        await core.on_write("prov-session", h(frame))
    confirm = json.dumps({"v": 1, "op": "confirm", "mac": v["client_confirm"]}).encode()
    answer = await _answer(core, "prov-session", b"\x01" + confirm)
    reply = json.loads(answer[1:])
    eq(reply["op"], "error", "op")
    eq(reply["code"], v["expected_error"], "code")
    assert "mac" not in reply
    assert not core.established


@case
async def replayed_record_is_answered():
    """A record sent twice in a live session: the second gets an error answer (bad_record)."""
    v = vectors("session")
    host = VectorHost(v)
    core = prov_core.ProvCore(host, urandom=_fixed(h(v["device_private"])), now_ms=lambda: 0)
    core.mtu = v["mtu"]
    host.core = core
    first_sealed = None
    for step in v["steps"]:
        if step["dir"] != "c2d":
            continue
        if step["sealed"] and first_sealed is None:
            first_sealed = step
        for frame in step["frames"]:
            await core.on_write(step["endpoint"], h(frame))
        if first_sealed is not None:
            break
    assert core.established
    out = []
    for frame in first_sealed["frames"]:
        out += await core.on_write(first_sealed["endpoint"], h(frame))
    answer = _frame_message([f for _, f in out])
    assert answer, "a replayed record got no answer"
    eq(answer[0], 1, "kind (plain error)")
    reply = json.loads(answer[1:])
    eq(reply["op"], "error", "op")
    eq(reply["code"], "bad_record", "code")


@case
async def cooperative_x25519_lets_other_tasks_run():
    dh = vectors("primitives")["x25519_dh"]
    ticks = [0]

    async def other():
        while True:
            ticks[0] += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(other())
    shared = await crypto_x25519.x25519_async(h(dh["alice_private"]), h(dh["bob_public"]))
    task.cancel()
    eq(hx(shared), dh["shared"], "shared")
    assert ticks[0] >= 255 // 16, ticks[0]


main()
