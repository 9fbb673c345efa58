# Bench stand-in for the ESP32 port's `cryptolib` (the WebAssembly port has none): AES in ECB
# mode, encrypt only, with the board's call forms encrypt(in) and encrypt(in, out). Written
# from FIPS-197. On the board this is C: the bench imports it before its baseline, so its own
# code and tables are not counted as the firmware's.

MODE_ECB = 1


def _xtime(a):
    a <<= 1
    return (a ^ 0x11B) if a & 0x100 else a


def _sbox():
    box = bytearray(256)
    p = q = 1
    while True:
        p = p ^ _xtime(p)  # p *= 3
        q ^= q << 1  # q /= 3
        q ^= q << 2
        q ^= q << 4
        q &= 0xFF
        if q & 0x80:
            q ^= 0x09
        x = (
            q
            ^ ((q << 1) | (q >> 7))
            ^ ((q << 2) | (q >> 6))
            ^ ((q << 3) | (q >> 5))
            ^ ((q << 4) | (q >> 4))
        )
        box[p & 0xFF] = (x ^ 0x63) & 0xFF
        if p & 0xFF == 1:
            break
    box[0] = 0x63
    return bytes(box)


_S = _sbox()
_SHIFT = bytes([(i + 4 * (i % 4)) % 16 for i in range(16)])


def _expand(key):
    # No allocation per word: on the board this is C, and the bench counts every byte.
    nk = len(key) // 4
    rounds = nk + 6
    w = bytearray(16 * (rounds + 1))
    w[: len(key)] = key
    t = bytearray(4)
    rcon = 1
    for i in range(nk, 4 * (rounds + 1)):
        for j in range(4):
            t[j] = w[4 * (i - 1) + j]
        if i % nk == 0:
            t0 = t[0]
            t[0] = _S[t[1]] ^ rcon
            t[1] = _S[t[2]]
            t[2] = _S[t[3]]
            t[3] = _S[t0]
            rcon = _xtime(rcon)
        elif nk > 6 and i % nk == 4:
            for j in range(4):
                t[j] = _S[t[j]]
        for j in range(4):
            w[4 * i + j] = w[4 * (i - nk) + j] ^ t[j]
    return w, rounds


class aes:
    def __init__(self, key, mode, iv=None):
        if mode != MODE_ECB:
            raise ValueError("only ECB in this stand-in")
        if len(key) not in (16, 32):
            raise ValueError("key")
        self._w, self._rounds = _expand(bytes(key))
        self._s = bytearray(16)
        self._t = bytearray(16)

    def _block(self, src, at, dst):
        # No allocation per block: the bench counts every byte allocated between collections.
        s = self._s  # one at a time: a tuple unpack would allocate a tuple per block
        t = self._t
        w = self._w
        sb = _S
        shift = _SHIFT
        for i in range(16):
            s[i] = src[at + i] ^ w[i]
        for r in range(1, self._rounds + 1):
            for i in range(16):  # SubBytes and ShiftRows
                t[i] = sb[s[shift[i]]]
            k = 16 * r
            if r == self._rounds:
                for i in range(16):
                    dst[at + i] = t[i] ^ w[k + i]
                return
            for c in range(0, 16, 4):  # MixColumns and AddRoundKey
                a0 = t[c]  # one at a time: a 4-tuple unpack would allocate a tuple
                a1 = t[c + 1]
                a2 = t[c + 2]
                a3 = t[c + 3]
                x = a0 ^ a1 ^ a2 ^ a3
                s[c] = a0 ^ x ^ _xtime(a0 ^ a1) ^ w[k + c]
                s[c + 1] = a1 ^ x ^ _xtime(a1 ^ a2) ^ w[k + c + 1]
                s[c + 2] = a2 ^ x ^ _xtime(a2 ^ a3) ^ w[k + c + 2]
                s[c + 3] = a3 ^ x ^ _xtime(a3 ^ a0) ^ w[k + c + 3]

    def encrypt(self, data, out=None):
        n = len(data)
        if n % 16:
            raise ValueError("blksize")
        dst = bytearray(n) if out is None else out
        for at in range(0, n, 16):
            self._block(data, at, dst)
        return bytes(dst) if out is None else None
