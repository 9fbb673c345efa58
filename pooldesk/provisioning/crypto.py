"""Session cryptography, client side (docs/provisioning.md §5-6), on `cryptography`."""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

LABEL = b"pooldesk-prov-v1"
KEYS_INFO = b"pooldesk-prov-v1 keys"
KIND_PLAIN = 0x01
KIND_RECORD = 0x02
TAG_LEN = 32
RECORD_OVERHEAD = 1 + 4 + TAG_LEN
MAX_SEQ = 0xFFFFFFFF


class RecordRejected(Exception):
    """A record failed its tag, was replayed/reordered, or is malformed."""


@dataclass(frozen=True)
class SessionKeys:
    c2d_enc: bytes
    c2d_mac: bytes
    d2c_enc: bytes
    d2c_mac: bytes
    conf_c: bytes
    conf_d: bytes


def keypair(private: bytes | None = None) -> tuple[X25519PrivateKey, bytes]:
    """A fresh X25519 key pair (or the one from `private`, for test vectors)."""
    key = X25519PrivateKey.from_private_bytes(private) if private else X25519PrivateKey.generate()
    return key, key.public_key().public_bytes_raw()


def shared_secret(private: X25519PrivateKey, peer_public: bytes) -> bytes:
    """X25519; `cryptography` refuses an all-zero result (low-order peer key) with ValueError."""
    return private.exchange(X25519PublicKey.from_public_bytes(peer_public))


def transcript_hash(device_id: str, client_pub: bytes, device_pub: bytes) -> bytes:
    return hashlib.sha256(
        LABEL + b"\x00" + device_id.encode("ascii") + b"\x00" + client_pub + device_pub
    ).digest()


def derive_keys(shared: bytes, claim_code: str, th: bytes) -> SessionKeys:
    okm = HKDF(algorithm=hashes.SHA256(), length=192, salt=th, info=KEYS_INFO).derive(
        shared + claim_code.encode("ascii")
    )
    return SessionKeys(*(okm[i * 32 : (i + 1) * 32] for i in range(6)))


def confirm_mac(key: bytes, role: bytes, th: bytes) -> bytes:
    return hmac.new(key, role + th, hashlib.sha256).digest()


def _ctr(key: bytes, seq: int, data: bytes) -> bytes:
    nonce = struct.pack(">I", seq) + bytes(12)
    ctx = Cipher(algorithms.AES(key), modes.CTR(nonce)).encryptor()
    return ctx.update(data) + ctx.finalize()


def _tag(mac_key: bytes, endpoint: str, head: bytes, ct: bytes) -> bytes:
    msg = endpoint.encode("ascii") + b"\x00" + head + ct
    return hmac.new(mac_key, msg, hashlib.sha256).digest()


def seal(enc_key: bytes, mac_key: bytes, endpoint: str, seq: int, plaintext: bytes) -> bytes:
    head = bytes([KIND_RECORD]) + struct.pack(">I", seq)
    ct = _ctr(enc_key, seq, plaintext)
    return head + ct + _tag(mac_key, endpoint, head, ct)


def open_record(
    enc_key: bytes, mac_key: bytes, endpoint: str, record: bytes, last_seq: int
) -> tuple[int, bytes]:
    if len(record) < RECORD_OVERHEAD or record[0] != KIND_RECORD:
        raise RecordRejected("record too short")
    head, ct, tag = record[:5], record[5:-TAG_LEN], record[-TAG_LEN:]
    if not hmac.compare_digest(tag, _tag(mac_key, endpoint, head, ct)):
        raise RecordRejected("record failed its integrity check")
    seq = struct.unpack(">I", head[1:])[0]
    if seq <= last_seq:
        raise RecordRejected("replayed or reordered record")
    return seq, _ctr(enc_key, seq, ct)


@dataclass
class ClientSession:
    """An established session as the client sees it: seals c2d, opens d2c."""

    keys: SessionKeys
    send_seq: int = 0
    recv_seq: int = 0

    def seal(self, endpoint: str, plaintext: bytes) -> bytes:
        if self.send_seq >= MAX_SEQ:
            raise RecordRejected("session exhausted")
        self.send_seq += 1
        return seal(self.keys.c2d_enc, self.keys.c2d_mac, endpoint, self.send_seq, plaintext)

    def open(self, endpoint: str, record: bytes) -> bytes:
        seq, plaintext = open_record(
            self.keys.d2c_enc, self.keys.d2c_mac, endpoint, record, self.recv_seq
        )
        self.recv_seq = seq
        return plaintext
