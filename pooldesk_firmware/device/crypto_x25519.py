# X25519 (RFC 7748) in pure Python, for MicroPython on the ESP32 (which has no ECDH).
# Montgomery ladder with a constant sequence of operations; Python big ints are not
# constant-time, but the keys are ephemeral (one per session).

import asyncio

_P = 2 ** 255 - 19
_A24 = 121665
BASE_POINT = b"\x09" + b"\x00" * 31


def _decode_scalar(k):
    b = bytearray(k)
    b[0] &= 248
    b[31] &= 127
    b[31] |= 64
    return int.from_bytes(bytes(b), "little")


def _decode_u(u):
    b = bytearray(u)
    b[31] &= 127
    return int.from_bytes(bytes(b), "little") % _P


def _ladder(scalar, u_bytes, chunk):
    """Generator running the ladder: yields None after every `chunk` bits, then the result."""
    if len(scalar) != 32 or len(u_bytes) != 32:
        raise ValueError("x25519 inputs must be 32 bytes")
    k = _decode_scalar(scalar)
    x1 = _decode_u(u_bytes)
    x2, z2, x3, z3 = 1, 0, x1, 1
    swap = 0
    p = _P
    for t in range(254, -1, -1):
        k_t = (k >> t) & 1
        swap ^= k_t
        if swap:
            x2, x3 = x3, x2
            z2, z3 = z3, z2
        swap = k_t
        a = (x2 + z2) % p
        aa = a * a % p
        b = (x2 - z2) % p
        bb = b * b % p
        e = (aa - bb) % p
        c = (x3 + z3) % p
        d = (x3 - z3) % p
        da = d * a % p
        cb = c * b % p
        x3 = (da + cb) % p
        x3 = x3 * x3 % p
        z3 = (da - cb) % p
        z3 = x1 * (z3 * z3 % p) % p
        x2 = aa * bb % p
        z2 = e * ((aa + _A24 * e) % p) % p
        if t % chunk == 0:
            yield None
    if swap:
        x2, x3 = x3, x2
        z2, z3 = z3, z2
    result = x2 * pow(z2, p - 2, p) % p
    yield result.to_bytes(32, "little")


def x25519(scalar, u_bytes):
    """X25519(scalar, u): both 32 bytes; returns the 32-byte shared u-coordinate."""
    out = None
    for step in _ladder(scalar, u_bytes, 256):
        out = step
    return out


async def x25519_async(scalar, u_bytes, chunk=4):
    """X25519 that lets other tasks run every `chunk` bits (the ladder takes a while on an
    ESP32, and the pump's control loop and the Bluetooth IRQs must not wait for it; the big
    integers each step leaves behind are collected between chunks)."""
    out = None
    for out in _ladder(scalar, u_bytes, chunk):
        if out is None:
            await asyncio.sleep(0)
    return out


def public_key(private):
    return x25519(private, BASE_POINT)


def generate_keypair(urandom):
    """Return (private, public) from a 32-byte random source such as os.urandom."""
    private = urandom(32)
    return private, public_key(private)


async def generate_keypair_async(urandom):
    private = urandom(32)
    return private, await x25519_async(private, BASE_POINT)
