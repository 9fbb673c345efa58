# Secure session of the provisioning protocol, device side (docs/provisioning.md §5, §6).
# Pure byte logic: no radio, no clock except the one handed to AttemptLimiter.
import crypto_sym
import crypto_x25519

LABEL = b"pooldesk-prov-v1"
KEYS_INFO = b"pooldesk-prov-v1 keys"
KIND_PLAIN = 0x01
KIND_RECORD = 0x02
TAG_LEN = 32
RECORD_OVERHEAD = 1 + 4 + TAG_LEN
MAX_SEQ = 0xFFFFFFFF


class SessionError(Exception):
    """A session-layer failure; `code` is the protocol error code."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def transcript_hash(device_id, client_pub, device_pub):
    return crypto_sym.sha256(
        LABEL + b"\x00" + device_id.encode() + b"\x00" + client_pub + device_pub
    )


def derive_keys(shared, claim_code, th):
    """Six 32-byte keys: c2d_enc, c2d_mac, d2c_enc, d2c_mac, conf_c, conf_d."""
    okm = crypto_sym.hkdf(th, shared + claim_code.encode(), KEYS_INFO, 192)
    return [okm[i * 32:(i + 1) * 32] for i in range(6)]


def confirm_mac(key, role, th):
    return crypto_sym.hmac_sha256(key, role + th)


def _seq_bytes(seq):
    return seq.to_bytes(4, "big")


def _mac(mac_key, endpoint, data):
    h = crypto_sym.Hmac(mac_key)
    h.update(endpoint.encode() + b"\x00")
    h.update(data)
    return h.digest()


def seal(enc_key, mac_key, endpoint, seq, plaintext):
    """-> the record: 0x02 || seq || ciphertext || tag, built in one buffer."""
    n = len(plaintext)
    record = bytearray(5 + n + TAG_LEN)
    record[0] = KIND_RECORD
    record[1:5] = _seq_bytes(seq)
    record[5:5 + n] = plaintext
    mv = memoryview(record)
    crypto_sym.aes256_ctr_into(enc_key, _seq_bytes(seq) + b"\x00" * 8, mv[5:5 + n])
    record[5 + n:] = _mac(mac_key, endpoint, mv[:5 + n])
    return bytes(record)


def open_record(enc_key, mac_key, endpoint, record, last_seq):
    """Check and decrypt a record; returns (seq, plaintext). Raises SessionError('bad_record').

    A bytearray record is decrypted where it lies and the plaintext is a memoryview into it
    (a sealed message may be 8 KB: no copies); other buffers are copied once."""
    n = len(record)
    if n < RECORD_OVERHEAD or record[0] != KIND_RECORD:
        raise SessionError("bad_record", "record too short")
    mv = memoryview(record)
    if not crypto_sym.equal(mv[n - TAG_LEN:], _mac(mac_key, endpoint, mv[:n - TAG_LEN])):
        raise SessionError("bad_record", "record failed its integrity check")
    seq = int.from_bytes(bytes(mv[1:5]), "big")
    if seq <= last_seq:
        raise SessionError("bad_record", "replayed or reordered record")
    if isinstance(record, bytearray):
        plaintext = mv[5:n - TAG_LEN]
    else:
        plaintext = bytearray(mv[5:n - TAG_LEN])
    crypto_sym.aes256_ctr_into(enc_key, bytes(mv[1:5]) + b"\x00" * 8, plaintext)
    return seq, plaintext


class Session:
    """An established session as seen by the device: opens c2d records, seals d2c records."""

    def __init__(self, keys):
        self._c2d_enc, self._c2d_mac = keys[0], keys[1]
        self._d2c_enc, self._d2c_mac = keys[2], keys[3]
        self._send_seq = 0
        self._recv_seq = 0
        # The host's settings before this session's first binding/wifi (prov_core: restore).
        # It lives and dies with the session: end, disconnect or a new hello make them final.
        self.undo = None

    def open(self, endpoint, record):
        seq, plaintext = open_record(self._c2d_enc, self._c2d_mac, endpoint, record, self._recv_seq)
        self._recv_seq = seq
        return plaintext

    def seal(self, endpoint, plaintext):
        if self._send_seq >= MAX_SEQ:
            raise SessionError("no_session", "session exhausted; open a new one")
        self._send_seq += 1
        return seal(self._d2c_enc, self._d2c_mac, endpoint, self._send_seq, plaintext)


class PendingHandshake:
    """Between the device's hello answer and the client's confirm."""

    def __init__(self, th, keys):
        self.th = th
        self.keys = keys

    def check_client(self, mac):
        return crypto_sym.equal(mac, confirm_mac(self.keys[4], b"client", self.th))

    def device_mac(self):
        return confirm_mac(self.keys[5], b"device", self.th)


async def start_handshake(device_id, claim_code, client_pub, urandom):
    """Answer a client hello. Returns (device_pub, PendingHandshake). Raises SessionError.

    Cooperative: the two X25519 operations let other tasks run while they compute."""
    if len(client_pub) != 32:
        raise SessionError("bad_message", "client_pub must be 32 bytes")
    private, device_pub = await crypto_x25519.generate_keypair_async(urandom)
    shared = await crypto_x25519.x25519_async(private, client_pub)
    if crypto_sym.equal(shared, b"\x00" * 32):
        raise SessionError("bad_message", "client_pub is not a usable key")
    th = transcript_hash(device_id, client_pub, device_pub)
    return device_pub, PendingHandshake(th, derive_keys(shared, claim_code, th))


def _subtract(a, b):
    return a - b


def backoff_ms(failures):
    """Wait after `failures` consecutive wrong claim codes: 0, 0, then 2 s doubling to 60 s."""
    if failures < 3:
        return 0
    if failures > 8:
        return 60000
    return min(1000 * (1 << (failures - 2)), 60000)


class AttemptLimiter:
    """Counts consecutive wrong claim codes and slows new attempts; never locks out for good."""

    def __init__(self, now_ms, diff_ms=None):
        self._now_ms = now_ms
        self._diff_ms = diff_ms or _subtract
        self.failures = 0
        self._blocked_from = 0
        self._blocked_ms = 0

    def retry_after_ms(self):
        if not self._blocked_ms:
            return 0
        elapsed = self._diff_ms(self._now_ms(), self._blocked_from)
        if elapsed < 0 or elapsed >= self._blocked_ms:
            self._blocked_ms = 0
            return 0
        return self._blocked_ms - elapsed

    def failed(self):
        self.failures += 1
        self._blocked_from = self._now_ms()
        self._blocked_ms = backoff_ms(self.failures)
        return self._blocked_ms

    def succeeded(self):
        self.failures = 0
        self._blocked_ms = 0
