"""Frames of at most ATT_MTU-3 bytes: request id, flags (bit 0 = last), u16 index, payload."""

from __future__ import annotations

import struct

HEADER = struct.Struct(">BBH")
FLAG_LAST = 0x01
MIN_MTU = 23
MAX_MESSAGE = 8192


def split(message: bytes, req_id: int, mtu: int) -> list[bytes]:
    room = max(mtu, MIN_MTU) - 3 - HEADER.size
    chunks = [message[i : i + room] for i in range(0, len(message), room)] or [b""]
    if len(chunks) > 0x10000:
        raise ValueError("message too long to frame")
    last = len(chunks) - 1
    return [
        HEADER.pack(req_id & 0xFF, FLAG_LAST if i == last else 0, i) + chunk
        for i, chunk in enumerate(chunks)
    ]


class Reassembler:
    """Joins frames into messages; broken sequences are dropped (returns None)."""

    def __init__(self, max_message: int = MAX_MESSAGE) -> None:
        self.max_message = max_message
        self._req_id: int | None = None
        self._next = 0
        self._parts: list[bytes] = []
        self._size = 0

    def reset(self) -> None:
        self._req_id, self._next, self._parts, self._size = None, 0, [], 0

    def feed(self, frame: bytes) -> tuple[int, bytes] | None:
        if len(frame) < HEADER.size:
            self.reset()
            return None
        req_id, flags, index = HEADER.unpack_from(frame)
        if index == 0:
            self.reset()
            self._req_id = req_id
        elif req_id != self._req_id or index != self._next:
            self.reset()
            return None
        payload = bytes(frame[HEADER.size :])
        self._size += len(payload)
        if self._size > self.max_message:
            self.reset()
            return None
        self._parts.append(payload)
        self._next = index + 1
        if flags & FLAG_LAST:
            message = b"".join(self._parts)
            self.reset()
            return req_id, message
        return None
