# Framing of provisioning messages over GATT writes/notifications (docs/provisioning.md §4).
# frame = request id (u8) || flags (u8, bit 0 = LAST) || index (u16 BE) || payload

HEADER_LEN = 4
FLAG_LAST = 0x01
MAX_MESSAGE = 8192
MIN_MTU = 23


class FrameError(Exception):
    """A framing rule was broken; `code` is the protocol error code, `req_id` the frame's id."""

    def __init__(self, code, req_id, message):
        super().__init__(message)
        self.code = code
        self.req_id = req_id
        self.message = message


def split(message, req_id, mtu):
    """Cut a message into frames that each fit one ATT write/notification (mtu - 3 bytes)."""
    if mtu < MIN_MTU:
        mtu = MIN_MTU
    room = mtu - 3 - HEADER_LEN
    frames = []
    index = 0
    pos = 0
    n = len(message)
    while True:
        chunk = message[pos:pos + room]
        pos += room
        last = pos >= n
        header = bytes([req_id & 0xFF, FLAG_LAST if last else 0, (index >> 8) & 0xFF, index & 0xFF])
        frames.append(header + chunk)
        if last:
            return frames
        index += 1


class Reassembler:
    """Collects the frames of one endpoint into messages. One unfinished message at a time."""

    def __init__(self, max_message=MAX_MESSAGE):
        self.max_message = max_message
        self.reset()

    def reset(self):
        self._req_id = None
        self._next = 0
        self._parts = []
        self._size = 0
        self._discarding = False

    def feed(self, frame):
        """Add one frame. Returns (req_id, message) when a message is complete, else None.

        Raises FrameError once for a broken message; its later frames are ignored until the
        next index 0.
        """
        if len(frame) < HEADER_LEN:
            self.reset()
            kind = frame[0] if len(frame) else 0
            raise FrameError("bad_frame", kind, "frame shorter than its header")
        req_id = frame[0]
        flags = frame[1]
        index = (frame[2] << 8) | frame[3]
        payload = frame[HEADER_LEN:]
        if index == 0:
            self.reset()
            self._req_id = req_id
        elif self._discarding:
            return None
        elif self._req_id is None or req_id != self._req_id or index != self._next:
            self.reset()
            self._discarding = True
            raise FrameError("bad_frame", req_id, "frame out of order")
        self._size += len(payload)
        if self._size > self.max_message:
            self.reset()
            self._discarding = True
            raise FrameError("too_large", req_id, "message longer than %d bytes" % self.max_message)
        self._parts.append(bytes(payload))
        self._next = index + 1
        if flags & FLAG_LAST:
            # One bytearray, so a sealed message can be decrypted where it lies (prov_session)
            message = bytearray(self._size)
            pos = 0
            for part in self._parts:
                message[pos:pos + len(part)] = part
                pos += len(part)
            self.reset()
            return req_id, message
        if self._next > 0xFFFF:
            self.reset()
            self._discarding = True
            raise FrameError("too_large", req_id, "too many frames")
        return None
