# Ed25519 signature check (RFC 8032, verify only) and SHA-512, in plain Python that runs under
# MicroPython: the ESP32 port's hashlib has SHA-256 but no SHA-512, and nothing on the board
# knows Ed25519. Used once per firmware update, on the signed manifest (a few KB), so speed
# matters less than RAM: no tables, one joint double-and-add over both scalars.

_M64 = 0xFFFFFFFFFFFFFFFF

_K = (
    0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
    0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
    0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
    0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
    0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
    0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
    0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
    0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
    0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
    0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
    0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
    0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
    0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
    0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
    0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
    0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
    0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
    0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
    0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
    0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
)


def _ror(x, n):
    return ((x >> n) | (x << (64 - n))) & _M64


class SHA512:
    """hashlib-style: update() any number of times, then digest(). 128-byte blocks."""

    def __init__(self, data=b""):
        self._h = [0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b,
                   0xa54ff53a5f1d36f1, 0x510e527fade682d1, 0x9b05688c2b3e6c1f,
                   0x1f83d9abfb41bd6b, 0x5be0cd19137e2179]
        self._buf = b""
        self._n = 0
        if data:
            self.update(data)

    def _block(self, b):
        w = [int.from_bytes(b[i:i + 8], "big") for i in range(0, 128, 8)]
        for t in range(16, 80):
            x, y = w[t - 15], w[t - 2]
            s0 = _ror(x, 1) ^ _ror(x, 8) ^ (x >> 7)
            s1 = _ror(y, 19) ^ _ror(y, 61) ^ (y >> 6)
            w.append((w[t - 16] + s0 + w[t - 7] + s1) & _M64)
        a, b_, c, d, e, f, g, h = self._h
        for t in range(80):
            s1 = _ror(e, 14) ^ _ror(e, 18) ^ _ror(e, 41)
            ch = (e & f) ^ (~e & _M64 & g)
            t1 = (h + s1 + ch + _K[t] + w[t]) & _M64
            s0 = _ror(a, 28) ^ _ror(a, 34) ^ _ror(a, 39)
            t2 = (s0 + ((a & b_) ^ (a & c) ^ (b_ & c))) & _M64
            h, g, f, e, d, c, b_, a = g, f, e, (d + t1) & _M64, c, b_, a, (t1 + t2) & _M64
        hs = self._h
        for i, v in enumerate((a, b_, c, d, e, f, g, h)):
            hs[i] = (hs[i] + v) & _M64

    def update(self, data):
        self._n += len(data)
        buf = self._buf + bytes(data)
        i = 0
        while len(buf) - i >= 128:
            self._block(buf[i:i + 128])
            i += 128
        self._buf = buf[i:]

    def digest(self):
        h, buf, n = list(self._h), self._buf, self._n
        pad = b"\x80" + b"\x00" * ((111 - n) % 128) + (n * 8).to_bytes(16, "big")
        self.update(pad)
        out = b"".join(v.to_bytes(8, "big") for v in self._h)
        self._h, self._buf, self._n = h, buf, n  # digest() leaves the object reusable
        return out


# ---- Ed25519 (edwards25519, a = -1), extended coordinates (X, Y, Z, T) ----

_P = 2 ** 255 - 19
_L = 2 ** 252 + 27742317777372353535851937790883648493
_D = 37095705934669439343138083508754565189542113879843219016388785533085940283555
_D2 = (2 * _D) % _P
_SQRT_M1 = 19681161376707505956807079304988542015446066515923890162744021073123829784752
_BX = 15112221349535400772501151409588531511454012693041857206046113283949847762202
_BY = 46316835694926478169428394003475163141307993866256225615783033603165251855960


def _add(p, q):
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % _P
    b = (y1 + x1) * (y2 + x2) % _P
    c = t1 * _D2 * t2 % _P
    d = 2 * z1 * z2 % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _double(p):
    x1, y1, z1, _ = p
    a = x1 * x1 % _P
    b = y1 * y1 % _P
    c = 2 * z1 * z1 % _P
    h = a + b
    s = x1 + y1
    e = h - s * s % _P
    g = a - b
    f = c + g
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _decode(s):
    """32 bytes -> a point, or None when they encode none."""
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= _P:
        return None
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    # x = sqrt(u / v) = u v^3 (u v^7)^((p-5)/8)
    v3 = v * v % _P * v % _P
    x = u * v3 % _P * pow(u * v3 % _P * v3 % _P * v % _P, (_P - 5) // 8, _P) % _P
    vx2 = v * x % _P * x % _P
    if vx2 != u:
        if vx2 != (_P - u) % _P:
            return None
        x = x * _SQRT_M1 % _P
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = _P - x
    return (x, y, 1, x * y % _P)


def _encode(p):
    x, y, z, _ = p
    zi = pow(z, _P - 2, _P)
    x, y = x * zi % _P, y * zi % _P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def verify(public_key, message, signature):
    """True when `signature` (64 bytes) is public_key's (32 bytes) Ed25519 signature of
    `message` (bytes). Checks [S]B = R + [k]A as [S]B + [k](-A) encoded == R."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _decode(public_key)
    if a is None:
        return False
    r_bytes = signature[:32]
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    h = SHA512(r_bytes)
    h.update(public_key)
    h.update(message)
    k = int.from_bytes(h.digest(), "little") % _L
    b = (_BX, _BY, 1, _BX * _BY % _P)
    neg_a = ((_P - a[0]) % _P, a[1], 1, (_P - a[3]) % _P)
    both = _add(b, neg_a)
    acc = (0, 1, 1, 0)
    for i in range(255, -1, -1):
        acc = _double(acc)
        bs, bk = (s >> i) & 1, (k >> i) & 1
        if bs and bk:
            acc = _add(acc, both)
        elif bs:
            acc = _add(acc, b)
        elif bk:
            acc = _add(acc, neg_a)
    return _encode(acc) == bytes(r_bytes)
