"""The device side (pooldesk_firmware/device, pure Python for MicroPython) against the shared
vectors."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.provisioning.device_side import (
    crypto_sym,
    crypto_x25519,
    prov_core,
    prov_frame,
    prov_session,
)
from tests.provisioning.vectors import h, load


def test_x25519_matches_rfc7748():
    v = load("primitives")
    for case in v["x25519"]:
        assert crypto_x25519.x25519(h(case["scalar"]), h(case["u"])).hex() == case["out"]
    dh = v["x25519_dh"]
    assert crypto_x25519.public_key(h(dh["alice_private"])).hex() == dh["alice_public"]
    assert crypto_x25519.public_key(h(dh["bob_private"])).hex() == dh["bob_public"]
    assert crypto_x25519.x25519(h(dh["alice_private"]), h(dh["bob_public"])).hex() == dh["shared"]
    assert crypto_x25519.x25519(h(dh["bob_private"]), h(dh["alice_public"])).hex() == dh["shared"]


def test_hmac_hkdf_and_aes_ctr_built_from_ecb():
    v = load("primitives")
    mac = v["hmac"]
    assert crypto_sym.hmac_sha256(h(mac["key"]), h(mac["data"])).hex() == mac["mac"]
    c = v["hkdf"]
    assert crypto_sym.hkdf_extract(h(c["salt"]), h(c["ikm"])).hex() == c["prk"]
    assert crypto_sym.hkdf(h(c["salt"]), h(c["ikm"]), h(c["info"]), c["length"]).hex() == c["okm"]
    a = v["aes_ctr"]
    nonce = a["seq"].to_bytes(4, "big") + bytes(8)
    assert crypto_sym.aes256_ctr(h(a["key"]), nonce, h(a["plaintext"])).hex() == a["ciphertext"]
    assert crypto_sym.aes256_ctr(h(a["key"]), nonce, h(a["ciphertext"])).hex() == a["plaintext"]


def test_constant_time_compare():
    assert crypto_sym.equal(b"abc", b"abc")
    assert not crypto_sym.equal(b"abc", b"abd")
    assert not crypto_sym.equal(b"abc", b"abcd")


def test_key_schedule():
    v = load("key_schedule")
    shared = crypto_x25519.x25519(h(v["device_private"]), h(v["client_public"]))
    assert shared.hex() == v["shared"]
    th = prov_session.transcript_hash(v["device_id"], h(v["client_public"]), h(v["device_public"]))
    assert th.hex() == v["th"]
    keys = prov_session.derive_keys(shared, v["claim_code"], th)
    names = ("c2d_enc", "c2d_mac", "d2c_enc", "d2c_mac", "conf_c", "conf_d")
    assert [k.hex() for k in keys] == [v[n] for n in names]
    assert prov_session.confirm_mac(keys[4], b"client", th).hex() == v["client_confirm"]
    assert prov_session.confirm_mac(keys[5], b"device", th).hex() == v["device_confirm"]


def test_replay_reorder_tamper_and_moved_records_are_refused():
    keys = load("key_schedule")
    session = prov_session.Session(
        [h(keys[n]) for n in ("c2d_enc", "c2d_mac", "d2c_enc", "d2c_mac", "conf_c", "conf_d")]
    )
    for case in load("replay")["cases"]:
        try:
            plain = session.open(case["endpoint"], h(case["record"]))
        except prov_session.SessionError as e:
            assert not case["accept"], case
            assert e.code == "bad_record"
        else:
            assert case["accept"], case
            assert plain.decode() == load("replay")["plaintext"]


class VectorHost:
    """The host the session vector describes: each binding starts an attempt that reports the
    listed status events after the answer."""

    def __init__(self, v: dict[str, Any]) -> None:
        self.device_id, self.claim_code, self.fw_version = v["device_id"], v["claim_code"], "0.1.0"
        self.bound = False
        self.scan_results = [tuple(r) for r in v["scan_results"]]
        self.out: list[tuple[str, bytes]] = []
        self.attempt: list[tuple[str, dict[str, Any]]] = []
        self.core: Any = None

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


def _urandom_from(private: bytes):
    def urandom(n: int) -> bytes:
        assert n == 32
        return private

    return urandom


async def test_device_reproduces_the_session_transcript_byte_for_byte():
    v = load("session")
    host = VectorHost(v)
    core = prov_core.ProvCore(host, urandom=_urandom_from(h(v["device_private"])), now_ms=lambda: 0)
    core.mtu = v["mtu"]
    host.core = core
    produced: list[tuple[str, str]] = []
    for step in v["steps"]:
        if step["dir"] != "c2d":
            continue
        for frame in step["frames"]:
            host.write(await core.on_write(step["endpoint"], h(frame)))
        produced.extend((e, f.hex()) for e, f in host.out)
        host.out.clear()
    expected = [(s["endpoint"], f) for s in v["steps"] if s["dir"] == "d2c" for f in s["frames"]]
    assert produced == expected
    assert core.established


async def test_device_refuses_the_wrong_claim_code_vector_without_confirming():
    v = load("wrong_claim_code")
    session = load("session")
    host = VectorHost(session)
    core = prov_core.ProvCore(host, urandom=_urandom_from(h(v["device_private"])), now_ms=lambda: 0)
    out = []
    for frame in session["steps"][0]["frames"]:
        out += await core.on_write("prov-session", h(frame))
    confirm = json.dumps({"v": 1, "op": "confirm", "mac": v["client_confirm"]}).encode()
    answer = b""
    for frame in prov_frame.split(b"\x01" + confirm, 2, 23):
        for _, f in await core.on_write("prov-session", frame):
            answer += f[4:]
    reply = json.loads(answer[1:])
    assert reply["op"] == "error"
    assert reply["code"] == v["expected_error"]
    assert "mac" not in reply
    assert not core.established


async def test_cooperative_x25519_matches_and_lets_other_tasks_run():
    dh = load("primitives")["x25519_dh"]
    ticks = 0

    async def other_task() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(other_task())
    shared = await crypto_x25519.x25519_async(h(dh["alice_private"]), h(dh["bob_public"]))
    task.cancel()
    assert shared.hex() == dh["shared"]
    assert ticks >= 255 // 16  # the control loop got the CPU between ladder chunks
