"""The client side (pooldesk.provisioning, on `cryptography`) against the shared vectors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from pooldesk.provisioning import Binding, ProvisioningClient, WrongClaimCode, crypto, framing

from .vectors import h, load


def test_aes_ctr_uses_the_record_counter_block():
    v = load("primitives")["aes_ctr"]
    assert crypto._ctr(h(v["key"]), v["seq"], h(v["plaintext"])) == h(v["ciphertext"])


def test_key_agreement_and_key_schedule():
    v = load("key_schedule")
    client_key, client_pub = crypto.keypair(h(v["client_private"]))
    device_key, device_pub = crypto.keypair(h(v["device_private"]))
    assert client_pub.hex() == v["client_public"]
    assert device_pub.hex() == v["device_public"]
    shared = crypto.shared_secret(client_key, device_pub)
    assert shared == crypto.shared_secret(device_key, client_pub) == h(v["shared"])
    th = crypto.transcript_hash(v["device_id"], client_pub, device_pub)
    assert th.hex() == v["th"]
    keys = crypto.derive_keys(shared, v["claim_code"], th)
    for name in ("c2d_enc", "c2d_mac", "d2c_enc", "d2c_mac", "conf_c", "conf_d"):
        assert getattr(keys, name).hex() == v[name], name
    assert crypto.confirm_mac(keys.conf_c, b"client", th).hex() == v["client_confirm"]
    assert crypto.confirm_mac(keys.conf_d, b"device", th).hex() == v["device_confirm"]


def test_framing_matches_every_transcript_message():
    session = load("session")
    for step in session["steps"]:
        frames = framing.split(h(step["message"]), step["req_id"], session["mtu"])
        assert [f.hex() for f in frames] == step["frames"]
        reassembler = framing.Reassembler()
        results = [reassembler.feed(f) for f in frames]
        assert results[-1] == (step["req_id"], h(step["message"]))


def test_records_replayed_reordered_tampered_or_moved_are_refused():
    keys = load("key_schedule")
    last = 0
    for case in load("replay")["cases"]:
        try:
            seq, plain = crypto.open_record(
                h(keys["c2d_enc"]), h(keys["c2d_mac"]), case["endpoint"], h(case["record"]), last
            )
        except crypto.RecordRejected:
            assert not case["accept"], case
        else:
            assert case["accept"], case
            assert plain.decode() == load("replay")["plaintext"]
            last = seq


class TranscriptLink:
    """Plays the device's half of a recorded transcript; checks the client's half byte for byte."""

    def __init__(self, steps: list[dict[str, Any]], mtu: int) -> None:
        self.mtu = mtu
        self._steps = steps
        self._pos = 0
        self._pending: list[str] = []
        self._subs: dict[str, Callable[[bytes], None]] = {}

    @property
    def finished(self) -> bool:
        return self._pos == len(self._steps)

    async def read(self, endpoint: str) -> bytes:
        raise AssertionError("not in the transcript")

    async def subscribe(self, endpoint: str, callback: Callable[[bytes], None]) -> None:
        self._subs[endpoint] = callback

    async def write(self, endpoint: str, data: bytes) -> None:
        step = self._steps[self._pos]
        assert step["dir"] == "c2d"
        assert step["endpoint"] == endpoint
        self._pending.append(bytes(data).hex())
        if len(self._pending) < len(step["frames"]):
            return
        assert self._pending == step["frames"], f"client message {self._pos} differs"
        self._pending = []
        self._pos += 1
        loop = asyncio.get_running_loop()
        while self._pos < len(self._steps) and self._steps[self._pos]["dir"] == "d2c":
            answer = self._steps[self._pos]
            for frame in answer["frames"]:
                loop.call_soon(self._subs[answer["endpoint"]], bytes.fromhex(frame))
            self._pos += 1


async def test_full_session_transcript_byte_for_byte():
    v = load("session")
    link = TranscriptLink(v["steps"], v["mtu"])
    client = ProvisioningClient(link, private_key=h(v["client_private"]), timeout=2)
    events = []
    client.on_status(events.append)
    await client.open_session(v["claim_code"])
    networks = await client.scan_wifi()
    assert [n.ssid for n in networks] == ["PoolHouse", "Cafe", "Neighbour"]
    first = next(s for s in v["steps"] if '"op":"binding"' in s["plaintext"])
    body = json.loads(first["plaintext"])["binding"]
    failed = await client.send_binding(Binding(**body), wait=True, timeout_s=2)
    assert failed is not None
    assert failed.reason == "wifi_auth"
    ok = await client.send_binding(
        Binding(**{**body, "password": "right-password"}), wait=True, timeout_s=2
    )
    assert ok is not None
    assert ok.state == "mqtt_connected"
    await asyncio.sleep(0)
    assert link.finished
    assert [e.state for e in events] == [
        "connecting",
        "failed",
        "connecting",
        "wifi_connected",
        "mqtt_connected",
    ]
    assert events[3].ip == "192.168.4.20"


async def test_wrong_claim_code_vector():
    v = load("wrong_claim_code")
    session = load("session")
    hello, device_hello = session["steps"][0], session["steps"][1]
    error = crypto.KIND_PLAIN.to_bytes(1, "big") + (
        b'{"v": 1, "op": "error", "code": "auth_failed", "message": "wrong claim code", '
        b'"retry_after_ms": 0}'
    )
    confirm = json.dumps(
        {"v": 1, "op": "confirm", "mac": v["client_confirm"]}, separators=(",", ":")
    ).encode()
    steps = [
        hello,
        device_hello,
        {
            "dir": "c2d",
            "endpoint": "prov-session",
            "frames": [f.hex() for f in framing.split(b"\x01" + confirm, 2, session["mtu"])],
        },
        {
            "dir": "d2c",
            "endpoint": "prov-session",
            "frames": [f.hex() for f in framing.split(error, 2, session["mtu"])],
        },
    ]
    link = TranscriptLink(steps, session["mtu"])
    client = ProvisioningClient(link, private_key=h(v["client_private"]), timeout=2)
    with pytest.raises(WrongClaimCode):
        await client.open_session(v["client_claim_code"])
    assert link.finished
    assert not client.session_open
