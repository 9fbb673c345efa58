# Symmetric primitives for provisioning, from what the ESP32 port of MicroPython offers:
# hashlib.sha256 and cryptolib.aes in ECB mode. HMAC, HKDF and AES-CTR are built here.
import hashlib

import cryptolib

_ECB = 1
_BLOCK = 16
_HASH_BLOCK = 64


def sha256(data):
    return hashlib.sha256(data).digest()


def hmac_sha256(key, msg):
    """HMAC-SHA256 (RFC 2104). MicroPython's hashlib objects cannot be copied, so no caching."""
    if len(key) > _HASH_BLOCK:
        key = sha256(key)
    key = key + b"\x00" * (_HASH_BLOCK - len(key))
    ipad = bytes([b ^ 0x36 for b in key])
    opad = bytes([b ^ 0x5C for b in key])
    inner = hashlib.sha256(ipad)
    inner.update(msg)
    outer = hashlib.sha256(opad)
    outer.update(inner.digest())
    return outer.digest()


def hkdf_extract(salt, ikm):
    return hmac_sha256(salt, ikm)


def hkdf_expand(prk, info, length):
    out = b""
    block = b""
    i = 1
    while len(out) < length:
        block = hmac_sha256(prk, block + info + bytes([i]))
        out += block
        i += 1
    return out[:length]


def hkdf(salt, ikm, info, length):
    return hkdf_expand(hkdf_extract(salt, ikm), info, length)


def equal(a, b):
    """Constant-time comparison of two byte strings (time depends only on the lengths)."""
    if len(a) != len(b):
        return False
    diff = 0
    for i in range(len(a)):
        diff |= a[i] ^ b[i]
    return diff == 0


def aes256_ctr(key, nonce12, data):
    """AES-256-CTR; counter block i = nonce12 || i (u32 big endian), i from 0.

    Encryption and decryption are the same operation.
    """
    if len(key) != 32 or len(nonce12) != 12:
        raise ValueError("bad key or nonce length")
    n = len(data)
    if n == 0:
        return b""
    blocks = (n + _BLOCK - 1) // _BLOCK
    counters = bytearray(blocks * _BLOCK)
    for i in range(blocks):
        off = i * _BLOCK
        counters[off:off + 12] = nonce12
        counters[off + 12:off + 16] = i.to_bytes(4, "big")
    stream = cryptolib.aes(key, _ECB).encrypt(bytes(counters))
    out = bytearray(n)
    for i in range(n):
        out[i] = data[i] ^ stream[i]
    return bytes(out)
