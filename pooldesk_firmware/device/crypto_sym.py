# Symmetric primitives for provisioning, from what the ESP32 port of MicroPython offers:
# hashlib.sha256 and cryptolib.aes in ECB mode. HMAC, HKDF and AES-CTR are built here.
import hashlib

import cryptolib

_ECB = 1
_BLOCK = 16
_HASH_BLOCK = 64
_CHUNK = 256  # key stream bytes made per AES call (16 blocks)


def sha256(data):
    return hashlib.sha256(data).digest()


class Hmac:
    """Incremental HMAC-SHA256 (RFC 2104): update() with any buffer (bytes, bytearray,
    memoryview slices), so a long message is authenticated where it lies, never copied."""

    def __init__(self, key):
        if len(key) > _HASH_BLOCK:
            key = sha256(key)
        pad = bytearray(_HASH_BLOCK)
        pad[:len(key)] = key
        for i in range(_HASH_BLOCK):
            pad[i] ^= 0x36
        self._inner = hashlib.sha256(pad)
        for i in range(_HASH_BLOCK):
            pad[i] ^= 0x36 ^ 0x5C
        self._opad = pad

    def update(self, data):
        self._inner.update(data)

    def digest(self):
        """The tag. Once only: MicroPython's hashlib objects end with digest()."""
        outer = hashlib.sha256(self._opad)
        outer.update(self._inner.digest())
        return outer.digest()


def hmac_sha256(key, msg):
    """HMAC-SHA256 of one buffer."""
    h = Hmac(key)
    h.update(msg)
    return h.digest()


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


def aes256_ctr_into(key, nonce12, buf):
    """AES-256-CTR in place: XOR the key stream into `buf` (a bytearray or a writable
    memoryview slice of one). Counter block i = nonce12 || i (u32 big endian), i from 0.

    The key stream is made _CHUNK bytes at a time into two small reused buffers, so an 8 KB
    message needs 2 x 256 bytes beside itself, not four more copies of itself."""
    if len(key) != 32 or len(nonce12) != 12:
        raise ValueError("bad key or nonce length")
    n = len(buf)
    if n == 0:
        return
    cipher = cryptolib.aes(key, _ECB)
    room = min(_CHUNK, (n + _BLOCK - 1) // _BLOCK * _BLOCK)  # a short message: short buffers
    counters = bytearray(room)
    stream = bytearray(room)
    cmv = memoryview(counters)
    smv = memoryview(stream)
    for off in range(0, room, _BLOCK):
        counters[off:off + 12] = nonce12
    block = 0
    pos = 0
    while pos < n:
        size = min(room, n - pos)
        used = (size + _BLOCK - 1) // _BLOCK * _BLOCK
        for off in range(0, used, _BLOCK):
            counters[off + 12] = (block >> 24) & 0xFF
            counters[off + 13] = (block >> 16) & 0xFF
            counters[off + 14] = (block >> 8) & 0xFF
            counters[off + 15] = block & 0xFF
            block += 1
        if used == room:
            cipher.encrypt(counters, stream)
        else:
            cipher.encrypt(cmv[:used], smv[:used])
        for i in range(size):
            buf[pos + i] ^= stream[i]
        pos += size


def aes256_ctr(key, nonce12, data):
    """AES-256-CTR of a whole buffer into new bytes (encryption and decryption are the same
    operation). Long messages should use aes256_ctr_into on a buffer they already hold."""
    out = bytearray(data)
    aes256_ctr_into(key, nonce12, out)
    return bytes(out)
