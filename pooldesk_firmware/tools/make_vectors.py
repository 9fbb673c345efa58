"""Generate the provisioning test vectors in tests/vectors/ (docs/provisioning.md).

A reference written straight from the document with `cryptography` and `hmac`, independent of
both the device code (pooldesk_firmware/device) and the client (pooldesk/provisioning), which are
both
checked against its output. Run: python -m pooldesk_firmware.tools.make_vectors [--out DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import struct
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "tests" / "vectors"

# Fixed "randoms" for the vectors (never use fixed keys anywhere else).
CLIENT_PRIVATE = bytes.fromhex("a8abababababababababababababababababababababababababababababab6b")
DEVICE_PRIVATE = bytes.fromhex("c8cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd4d")
DEVICE_ID = "ESP-A1B2C3"
CLAIM_CODE = "KQ4M7XTZ2PB6WRHD"
WRONG_CLAIM_CODE = "KQ4M7XTZ2PB6WRHE"
MTU = 23

RFC7748_SCALAR_MULT = [
    (
        "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
        "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
        "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552",
    ),
]
RFC7748_DH = {
    "alice_private": "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
    "alice_public": "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
    "bob_private": "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
    "bob_public": "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
    "shared": "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
}
RFC5869_CASE1: dict[str, Any] = {
    "ikm": "0b" * 22,
    "salt": "000102030405060708090a0b0c",
    "info": "f0f1f2f3f4f5f6f7f8f9",
    "length": 42,
    "prk": "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
    "okm": "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
}


def x25519(private: bytes, public: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(private).exchange(
        X25519PublicKey.from_public_bytes(public)
    )


def public_of(private: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()


def hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def mac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


def key_schedule(
    client_pub: bytes, device_pub: bytes, shared: bytes, code: str
) -> dict[str, bytes]:
    th = hashlib.sha256(
        b"pooldesk-prov-v1\x00" + DEVICE_ID.encode() + b"\x00" + client_pub + device_pub
    ).digest()
    okm = hkdf(th, shared + code.encode(), b"pooldesk-prov-v1 keys", 192)
    names = ["c2d_enc", "c2d_mac", "d2c_enc", "d2c_mac", "conf_c", "conf_d"]
    keys = {name: okm[i * 32 : (i + 1) * 32] for i, name in enumerate(names)}
    keys["th"] = th
    keys["client_confirm"] = mac(keys["conf_c"], b"client" + th)
    keys["device_confirm"] = mac(keys["conf_d"], b"device" + th)
    return keys


def seal(enc: bytes, mac_key: bytes, endpoint: str, seq: int, plaintext: bytes) -> bytes:
    head = b"\x02" + struct.pack(">I", seq)
    ctx = Cipher(algorithms.AES(enc), modes.CTR(struct.pack(">I", seq) + bytes(12))).encryptor()
    ct = ctx.update(plaintext) + ctx.finalize()
    return head + ct + mac(mac_key, endpoint.encode() + b"\x00" + head + ct)


def frames(message: bytes, req_id: int, mtu: int) -> list[str]:
    room = mtu - 3 - 4
    chunks = [message[i : i + room] for i in range(0, len(message), room)] or [b""]
    return [
        (struct.pack(">BBH", req_id, 1 if i == len(chunks) - 1 else 0, i) + c).hex()
        for i, c in enumerate(chunks)
    ]


def client_json(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def device_json(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj).encode()


class Transcript:
    def __init__(self, keys: dict[str, bytes]) -> None:
        self.keys = keys
        self.steps: list[dict[str, Any]] = []
        self.seq = {"c2d": 0, "d2c": 0}

    def add(
        self, direction: str, endpoint: str, req_id: int, plaintext: bytes, sealed: bool
    ) -> None:
        step: dict[str, Any] = {
            "dir": direction,
            "endpoint": endpoint,
            "req_id": req_id,
            "sealed": sealed,
            "plaintext": plaintext.decode(),
        }
        if sealed:
            self.seq[direction] += 1
            step["seq"] = self.seq[direction]
            message = seal(
                self.keys[f"{direction}_enc"],
                self.keys[f"{direction}_mac"],
                endpoint,
                step["seq"],
                plaintext,
            )
        else:
            message = b"\x01" + plaintext
        step["message"] = message.hex()
        step["frames"] = frames(message, req_id, MTU)
        self.steps.append(step)


SCAN_RESULTS = [
    ["PoolHouse", -48, "wpa2"],
    ["Neighbour", -80, "wpa2"],
    ["", -60, "open"],
    ["PoolHouse", -70, "wpa2"],
    ["Cafe", -66, "open"],
]
BINDING = {
    "ssid": "PoolHouse",
    "password": "wrong-password",
    "broker_url": "mqtts://127.0.0.1:8883",
    "mqtt_user": "dev-esp-a1b2c3",
    "mqtt_password": "s3cret-mqtt-pass",
    "client_id": "esp-a1b2c3",
    "topic_prefix": "users/alice/devices/esp-a1b2c3",
    "username": "alice",
    "ca_cert": None,
}


def session_vector() -> dict[str, Any]:
    client_pub, device_pub = public_of(CLIENT_PRIVATE), public_of(DEVICE_PRIVATE)
    shared = x25519(CLIENT_PRIVATE, device_pub)
    keys = key_schedule(client_pub, device_pub, shared, CLAIM_CODE)
    t = Transcript(keys)
    t.add(
        "c2d",
        "prov-session",
        1,
        client_json({"v": 1, "op": "hello", "client_pub": client_pub.hex()}),
        False,
    )
    t.add(
        "d2c",
        "prov-session",
        1,
        device_json(
            {"v": 1, "op": "hello", "device_pub": device_pub.hex(), "device_id": DEVICE_ID}
        ),
        False,
    )
    t.add(
        "c2d",
        "prov-session",
        2,
        client_json({"v": 1, "op": "confirm", "mac": keys["client_confirm"].hex()}),
        False,
    )
    t.add(
        "d2c",
        "prov-session",
        2,
        device_json({"v": 1, "op": "confirm", "mac": keys["device_confirm"].hex()}),
        False,
    )
    t.add(
        "c2d", "prov-scan", 3, client_json({"v": 1, "op": "scan", "page": 0, "refresh": True}), True
    )
    networks = [
        {"ssid": "PoolHouse", "rssi": -48, "security": "wpa2"},
        {"ssid": "Cafe", "rssi": -66, "security": "open"},
        {"ssid": "Neighbour", "rssi": -80, "security": "wpa2"},
    ]
    t.add(
        "d2c",
        "prov-scan",
        3,
        device_json(
            {"v": 1, "op": "scan", "page": 0, "pages": 1, "total": 3, "networks": networks}
        ),
        True,
    )
    t.add("c2d", "prov-config", 4, client_json({"v": 1, "op": "binding", "binding": BINDING}), True)
    t.add("d2c", "prov-config", 4, device_json({"v": 1, "op": "binding", "accepted": True}), True)
    t.add(
        "d2c",
        "prov-status",
        1,
        device_json({"v": 1, "op": "status", "state": "connecting", "detail": {}}),
        True,
    )
    t.add(
        "d2c",
        "prov-status",
        2,
        device_json({"v": 1, "op": "status", "state": "failed", "detail": {"reason": "wifi_auth"}}),
        True,
    )
    fixed = {**BINDING, "password": "right-password"}
    t.add("c2d", "prov-config", 5, client_json({"v": 1, "op": "binding", "binding": fixed}), True)
    t.add("d2c", "prov-config", 5, device_json({"v": 1, "op": "binding", "accepted": True}), True)
    t.add(
        "d2c",
        "prov-status",
        3,
        device_json({"v": 1, "op": "status", "state": "connecting", "detail": {}}),
        True,
    )
    t.add(
        "d2c",
        "prov-status",
        4,
        device_json(
            {"v": 1, "op": "status", "state": "wifi_connected", "detail": {"ip": "192.168.4.20"}}
        ),
        True,
    )
    t.add(
        "d2c",
        "prov-status",
        5,
        device_json({"v": 1, "op": "status", "state": "mqtt_connected", "detail": {}}),
        True,
    )
    return {
        "description": "A whole session at ATT MTU 23: handshake, scan, a binding with a wrong "
        "Wi-Fi password, then the corrected one. The device answers each binding, "
        "then reports the status events listed after the answer (what it reports after "
        "the answer is about the new settings); `scan_results` is what its Wi-Fi scan "
        "returns.",
        "mtu": MTU,
        "device_id": DEVICE_ID,
        "claim_code": CLAIM_CODE,
        "fw_version": "0.1.0",
        "client_private": CLIENT_PRIVATE.hex(),
        "device_private": DEVICE_PRIVATE.hex(),
        "scan_results": SCAN_RESULTS,
        "steps": t.steps,
    }


def key_schedule_vector() -> dict[str, Any]:
    client_pub, device_pub = public_of(CLIENT_PRIVATE), public_of(DEVICE_PRIVATE)
    shared = x25519(DEVICE_PRIVATE, client_pub)
    assert shared == x25519(CLIENT_PRIVATE, device_pub)
    keys = key_schedule(client_pub, device_pub, shared, CLAIM_CODE)
    return {
        "description": "X25519 key agreement and the key schedule of docs/provisioning.md §5.",
        "device_id": DEVICE_ID,
        "claim_code": CLAIM_CODE,
        "client_private": CLIENT_PRIVATE.hex(),
        "client_public": client_pub.hex(),
        "device_private": DEVICE_PRIVATE.hex(),
        "device_public": device_pub.hex(),
        "shared": shared.hex(),
        **{k: v.hex() for k, v in keys.items()},
    }


def wrong_claim_vector() -> dict[str, Any]:
    client_pub, device_pub = public_of(CLIENT_PRIVATE), public_of(DEVICE_PRIVATE)
    shared = x25519(CLIENT_PRIVATE, device_pub)
    wrong = key_schedule(client_pub, device_pub, shared, WRONG_CLAIM_CODE)
    return {
        "description": "The client types one wrong character. Its confirm MAC differs; the "
        "device answers auth_failed and never sends its own confirmation.",
        "device_id": DEVICE_ID,
        "device_claim_code": CLAIM_CODE,
        "client_claim_code": WRONG_CLAIM_CODE,
        "client_private": CLIENT_PRIVATE.hex(),
        "device_private": DEVICE_PRIVATE.hex(),
        "client_confirm": wrong["client_confirm"].hex(),
        "expected_error": "auth_failed",
    }


def replay_vector() -> dict[str, Any]:
    client_pub, device_pub = public_of(CLIENT_PRIVATE), public_of(DEVICE_PRIVATE)
    keys = key_schedule(client_pub, device_pub, x25519(CLIENT_PRIVATE, device_pub), CLAIM_CODE)
    body = client_json({"v": 1, "op": "status"})
    rec = {
        seq: seal(keys["c2d_enc"], keys["c2d_mac"], "prov-config", seq, body).hex()
        for seq in (1, 2, 3)
    }
    tampered = bytearray.fromhex(rec[1])
    tampered[6] ^= 0x01
    moved = seal(keys["c2d_enc"], keys["c2d_mac"], "prov-scan", 1, body).hex()
    cases = [
        {"endpoint": "prov-config", "record": rec[1], "accept": True},
        {"endpoint": "prov-config", "record": rec[1], "accept": False, "why": "replay"},
        {"endpoint": "prov-config", "record": rec[3], "accept": True},
        {"endpoint": "prov-config", "record": rec[2], "accept": False, "why": "reordered"},
        {"endpoint": "prov-config", "record": tampered.hex(), "accept": False, "why": "tampered"},
        {
            "endpoint": "prov-config",
            "record": moved,
            "accept": False,
            "why": "record sealed for another endpoint",
        },
    ]
    return {
        "description": "Client-to-device records fed in this order to a fresh session "
        "(key schedule of key_schedule.json); accept says if the device takes it.",
        "plaintext": body.decode(),
        "cases": cases,
    }


def primitives_vector() -> dict[str, Any]:
    for scalar, u, out in RFC7748_SCALAR_MULT:
        assert x25519(bytes.fromhex(scalar), bytes.fromhex(u)).hex() == out
    dh = RFC7748_DH
    assert public_of(bytes.fromhex(dh["alice_private"])).hex() == dh["alice_public"]
    assert (
        x25519(bytes.fromhex(dh["alice_private"]), bytes.fromhex(dh["bob_public"])).hex()
        == dh["shared"]
    )
    c = RFC5869_CASE1
    assert (
        hkdf(
            bytes.fromhex(c["salt"]), bytes.fromhex(c["ikm"]), bytes.fromhex(c["info"]), c["length"]
        ).hex()
        == c["okm"]
    )
    key = bytes(range(32))
    ctr_pt = bytes(range(40))
    ctx = Cipher(algorithms.AES(key), modes.CTR(struct.pack(">I", 7) + bytes(12))).encryptor()
    return {
        "description": "RFC 7748 X25519, RFC 5869 HKDF-SHA256 case 1, RFC 4231 HMAC case 2, and "
        "AES-256-CTR with the record counter block (seq 7).",
        "x25519": [{"scalar": s, "u": u, "out": o} for s, u, o in RFC7748_SCALAR_MULT],
        "x25519_dh": dh,
        "hkdf": c,
        "hmac": {
            "key": b"Jefe".hex(),
            "data": b"what do ya want for nothing?".hex(),
            "mac": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        },
        "aes_ctr": {
            "key": key.hex(),
            "seq": 7,
            "plaintext": ctr_pt.hex(),
            "ciphertext": (ctx.update(ctr_pt) + ctx.finalize()).hex(),
        },
    }


def generate(out: Path) -> list[Path]:
    assert mac(b"Jefe", b"what do ya want for nothing?").hex().startswith("5bdcc146")
    vectors = {
        "primitives.json": primitives_vector(),
        "key_schedule.json": key_schedule_vector(),
        "session.json": session_vector(),
        "replay.json": replay_vector(),
        "wrong_claim_code.json": wrong_claim_vector(),
    }
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in vectors.items():
        path = out / name
        path.write_text(json.dumps(data, indent=1) + "\n")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    for path in generate(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
