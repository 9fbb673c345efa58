"""Host stand-in for MicroPython's `cryptolib` (ESP32 port: AES in ECB and CBC mode only).

Only ECB (mode 1) is provided, which is all the firmware uses; the cipher work is done by
`cryptography`. No firmware logic lives here.
"""

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MODE_ECB = 1
_BLOCK = 16


class aes:  # noqa: N801 - the MicroPython name
    """`cryptolib.aes(key, 1)`: encrypt/decrypt whole 16-byte blocks in ECB mode."""

    def __init__(self, key: bytes, mode: int, iv: bytes | None = None) -> None:
        if mode != MODE_ECB:
            raise ValueError("only ECB mode (1) is available in this stand-in")
        if len(key) not in (16, 32):
            raise ValueError("key must be 16 or 32 bytes")
        self._cipher = Cipher(algorithms.AES(bytes(key)), modes.ECB())  # noqa: S305 - CTR is built on it
        self._used_for: str | None = None

    def _run(self, direction: str, in_buf: bytes, out_buf: bytearray | None) -> bytes | None:
        if len(in_buf) % _BLOCK:
            raise ValueError("input length must be a multiple of 16")
        if self._used_for not in (None, direction):
            raise OSError("an aes object encrypts or decrypts, not both")
        self._used_for = direction
        ctx = self._cipher.encryptor() if direction == "enc" else self._cipher.decryptor()
        result = ctx.update(bytes(in_buf)) + ctx.finalize()
        if out_buf is None:
            return result
        out_buf[: len(result)] = result
        return None

    def encrypt(self, in_buf: bytes, out_buf: bytearray | None = None) -> bytes | None:
        return self._run("enc", in_buf, out_buf)

    def decrypt(self, in_buf: bytes, out_buf: bytearray | None = None) -> bytes | None:
        return self._run("dec", in_buf, out_buf)
