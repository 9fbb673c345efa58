# Configuration in flash, written so a power cut at any moment leaves the old or the new
# configuration, never a broken one.
#
# File format: one header line "PDCFG1 <seq> <sha256 hex of body>\n" followed by the JSON body.
# The body is never held in RAM as text when saving: json.dump streams it, once into the hash
# and once into the file (a binding with a CA certificate makes it ~7 KB).
# Save: write "<name>.new" completely, flush + fsync, then rename it over "<name>" (atomic on
# littlefs and POSIX). Where rename cannot replace (FAT), the old file is first renamed to
# "<name>.old". Load: every candidate whose checksum verifies competes; the highest seq wins.

import binascii
import hashlib
import io
import json
import os

MAGIC = "PDCFG1"


def join(root, name):
    if root.endswith("/"):
        return root + name
    return root + "/" + name


def _digest(body):
    return binascii.hexlify(hashlib.sha256(body).digest()).decode()


def _sync(f):
    f.flush()
    fsync = getattr(os, "fsync", None)
    if fsync is not None:
        fsync(f.fileno())
    else:
        sync = getattr(os, "sync", None)
        if sync is not None:
            sync()


def _sync_dir(root):
    # POSIX needs the directory synced for a rename to be durable; MicroPython has no os.open.
    opener = getattr(os, "open", None)
    if opener is None or not hasattr(os, "O_RDONLY"):
        return
    fd = opener(root, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def decode(raw):
    """bytes of one file -> (seq, data) or None when incomplete or corrupt."""
    nl = raw.find(b"\n")
    if nl < 0:
        return None
    head = raw[:nl].rstrip(b"\r").split(b" ")  # \r: a text-mode header written on Windows
    body = raw[nl + 1:]
    if len(head) != 3 or head[0] != MAGIC.encode():
        return None
    try:
        seq = int(head[1].decode())
        if head[2].decode() != _digest(body):
            return None
        data = json.loads(body.decode())
    except Exception:
        return None
    if not isinstance(data, dict):
        return None
    return seq, data


def read_stream(f):
    """An open binary file -> (seq, data) or None when incomplete or corrupt, like decode(),
    without the whole file in RAM: the body is hashed 256 bytes at a time, then parsed from
    the file by json.load (a 7 KB binding is never held as bytes and text besides its data)."""
    head = f.readline()
    if not head.endswith(b"\n"):
        return None
    fields = head[:-1].rstrip(b"\r").split(b" ")
    if len(fields) != 3 or fields[0] != MAGIC.encode():
        return None
    try:
        seq = int(fields[1].decode())
        h = hashlib.sha256()
        buf = bytearray(256)
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(buf if n == len(buf) else memoryview(buf)[:n])
        if fields[2].decode() != binascii.hexlify(h.digest()).decode():
            return None
        f.seek(len(head))
        data = json.load(f)
    except Exception:
        return None
    if not isinstance(data, dict):
        return None
    return seq, data


class _Hasher(io.IOBase):
    """A write-only stream that hashes what json.dump writes into it."""

    def __init__(self):
        self.h = hashlib.sha256()

    def write(self, data):
        if isinstance(data, str):  # CPython's json writes text; MicroPython's writes bytes
            data = data.encode()
        self.h.update(data)
        return len(data)


def _header(seq, data):
    hasher = _Hasher()
    json.dump(data, hasher)
    digest = binascii.hexlify(hasher.h.digest()).decode()
    return "%s %d %s\n" % (MAGIC, seq, digest)


def encode(seq, data):
    body = json.dumps(data).encode()
    return ("%s %d %s\n" % (MAGIC, seq, _digest(body))).encode() + body


class Store:
    def __init__(self, root, name="config.json"):
        self.root = root
        self.path = join(root, name)
        self.seq = 0

    def _read(self, path):
        try:
            with open(path, "rb") as f:
                return read_stream(f)
        except OSError:
            return None

    def load(self):
        """-> the newest complete configuration (a dict), or {} when there is none."""
        best, best_path = None, None
        for path in (self.path, self.path + ".new", self.path + ".old"):
            got = self._read(path)
            if got is not None and (best is None or got[0] > best[0]):
                best, best_path = got, path
        if best is None:
            self.seq = 0
            return {}
        if best_path != self.path:
            self._promote(best_path)
        self.seq = best[0]
        return best[1]

    def _promote(self, path):
        # A save was cut after its new file was complete: make that file the current one, so
        # the next save (which rewrites "<name>.new") never destroys the only good copy.
        try:
            os.rename(path, self.path)
        except OSError:
            _remove(self.path)
            os.rename(path, self.path)
        _sync_dir(self.root)

    def save(self, data):
        seq = self.seq + 1
        new, old = self.path + ".new", self.path + ".old"
        head = _header(seq, data)
        with open(new, "w") as f:
            f.write(head)
            json.dump(data, f)
            _sync(f)
        try:
            os.rename(new, self.path)
        except OSError:
            if _exists(self.path):
                _remove(old)
                os.rename(self.path, old)
            os.rename(new, self.path)
        _sync_dir(self.root)
        _remove(old)
        self.seq = seq


def load_json(root, name):
    """A plain JSON file written once at the factory (e.g. factory.json), or {}."""
    try:
        with open(join(root, name), "rb") as f:
            data = json.loads(f.read().decode())
        return data if isinstance(data, dict) else {}
    except Exception:
        return {}
