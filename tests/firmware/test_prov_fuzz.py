"""Fuzz the device's provisioning parsers with every kind of byte string a peer could write.

Properties: no exception escapes, every answer fits the ATT MTU, nothing is applied without a
session, and garbage neither establishes a session nor disturbs an established one.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pooldesk.provisioning import crypto, framing
from tests.provisioning.device_side import prov_core, prov_frame
from tests.provisioning.table_host import Network, TableHost

CODE = "KQ4M7XTZ2PB6WRHD"
ENDPOINTS = [
    "device-info",
    "prov-session",
    "prov-config",
    "prov-scan",
    "prov-ctrl",
    "prov-status",
    "nonsense",
]
FUZZ = settings(max_examples=150, deadline=3000, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=12,
)
ops = st.sampled_from(
    ["hello", "confirm", "scan", "binding", "wifi", "status", "identify", "end", "x"]
)
requests = st.fixed_dictionaries(
    {"v": st.sampled_from([1, 1, 1, 2, "1", None]), "op": ops},
    optional={
        "client_pub": st.text(max_size=70) | st.just("00" * 32) | st.just("09" + "00" * 31),
        "mac": st.text(max_size=70),
        "page": json_values,
        "seconds": json_values,
        "binding": json_values,
        "ssid": json_values,
        "password": json_values,
        "refresh": json_values,
    },
)


def frames_of(payload: bytes) -> st.SearchStrategy[list[bytes]]:
    return st.integers(0, 255).map(lambda rid: framing.split(payload, rid, 23))


raw_frames = st.binary(max_size=24).map(lambda b: [b])
plain_frames = requests.flatmap(lambda obj: frames_of(b"\x01" + json.dumps(obj).encode()))
record_like = st.binary(min_size=0, max_size=80).flatmap(lambda b: frames_of(b"\x02" + b))
writes = st.lists(
    st.tuples(st.sampled_from(ENDPOINTS), raw_frames | plain_frames | record_like), max_size=12
)


def make_host() -> TableHost:
    return TableHost(
        claim_code=CODE, networks={"PoolHouse": Network("right-password")}, broker_logins={"u": "p"}
    )


async def feed(core: Any, endpoint: str, frames: list[bytes], mtu: int) -> list[bytes]:
    answers = []
    for frame in frames:
        out = await asyncio.wait_for(core.on_write(endpoint, frame), 5)
        for _, f in out:
            assert len(f) <= mtu - 3
            answers.append(f)
    return answers


def sealed_request(
    session: crypto.ClientSession, endpoint: str, obj: Any, req_id: int
) -> list[bytes]:
    return framing.split(session.seal(endpoint, json.dumps(obj).encode()), req_id, 23)


async def handshake(core: Any) -> crypto.ClientSession:
    """A genuine client's session, built with the client-side crypto."""
    key, pub = crypto.keypair()
    out = await feed(
        core,
        "prov-session",
        framing.split(
            b"\x01" + json.dumps({"v": 1, "op": "hello", "client_pub": pub.hex()}).encode(), 1, 23
        ),
        23,
    )
    hello = json.loads(b"".join(f[4:] for f in out)[1:])
    device_pub = bytes.fromhex(hello["device_pub"])
    th = crypto.transcript_hash(hello["device_id"], pub, device_pub)
    keys = crypto.derive_keys(crypto.shared_secret(key, device_pub), CODE, th)
    confirm = {"v": 1, "op": "confirm", "mac": crypto.confirm_mac(keys.conf_c, b"client", th).hex()}
    out = await feed(
        core, "prov-session", framing.split(b"\x01" + json.dumps(confirm).encode(), 2, 23), 23
    )
    assert json.loads(b"".join(f[4:] for f in out)[1:])["op"] == "confirm"
    return crypto.ClientSession(keys)


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))


@FUZZ
@given(st.lists(st.binary(max_size=40), max_size=30))
def test_reassembler_takes_any_frames(frames):
    r = prov_frame.Reassembler(max_message=64)
    for frame in frames:
        try:
            done = r.feed(frame)
        except prov_frame.FrameError as e:
            assert e.code in ("bad_frame", "too_large")
        else:
            if done is not None:
                assert 0 <= done[0] <= 255
                assert len(done[1]) <= 64


@FUZZ
@given(writes, st.sampled_from([23, 64, 185, 517]))
def test_any_writes_without_the_claim_code_change_nothing(sequence, mtu):
    async def go() -> None:
        host = make_host()
        core = prov_core.ProvCore(host, now_ms=lambda: 0)
        core.mtu = mtu
        for endpoint, frames in sequence:
            await feed(core, endpoint, frames, mtu)
        assert not core.established
        assert host.applied == []
        assert not host.bound
        # the device still serves a genuine client afterwards (clock past any backoff)
        core._limiter.succeeded()
        core.mtu = 23
        session = await handshake(core)
        out = await feed(
            core,
            "prov-config",
            sealed_request(session, "prov-config", {"v": 1, "op": "status"}, 9),
            23,
        )
        reply = json.loads(session.open("prov-config", _join(out)))
        assert reply["op"] == "status"
        await host.aclose()

    run(go())


def _join(frames: list[bytes]) -> bytes:
    r = framing.Reassembler()
    done = None
    for f in frames:
        done = r.feed(f) or done
    assert done is not None
    return done[1]


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["prov-config", "prov-scan", "prov-ctrl", "prov-status"]),
            raw_frames | record_like | plain_frames,
        ),
        max_size=10,
    )
)
def test_garbage_does_not_disturb_an_established_session(sequence):
    async def go() -> None:
        host = make_host()
        core = prov_core.ProvCore(host, now_ms=lambda: 0)
        session = await handshake(core)
        for endpoint, frames in sequence:
            await feed(core, endpoint, frames, 23)
        assert core.established
        out = await feed(
            core,
            "prov-scan",
            sealed_request(session, "prov-scan", {"v": 1, "op": "scan", "page": 0}, 7),
            23,
        )
        reply = json.loads(session.open("prov-scan", _join(out)))
        assert reply["networks"][0]["ssid"] == "PoolHouse"
        assert [kind for kind, _ in host.applied] == []
        await host.aclose()

    run(go())


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["prov-config", "prov-scan", "prov-ctrl", "prov-session"]),
            requests | json_values,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_any_sealed_json_gets_an_answer_and_only_valid_bindings_apply(sequence):
    async def go() -> None:
        host = make_host()
        core = prov_core.ProvCore(host, now_ms=lambda: 0)
        session = await handshake(core)
        for i, (endpoint, obj) in enumerate(sequence):
            if not core.established:
                break
            out = await feed(core, endpoint, sealed_request(session, endpoint, obj, i), 23)
            reply = json.loads(session.open(endpoint, _join(out)))
            assert isinstance(reply.get("op"), str)
        for kind, applied in host.applied:
            assert kind in ("binding", "wifi")
            assert all(isinstance(applied[k], str) for k in ("ssid", "password"))
        await host.aclose()

    run(go())
