# Over-the-air update of the application files (docs/updates.md, topics in docs/mqtt.md).
#
# The backend offers a release on P/ota/offer (retained): the signed manifest and its
# signature. Before anything is written the offer is checked: Ed25519 signature with the public
# key from factory.json ("ota_key"), not a downgrade (unless "force"), not older than the
# manifest's "min_previous", small enough for the free flash. Then every chunk is asked for
# (P/ota/get) and arrives on P/ota/data; each is checked against its SHA-256 in the manifest
# before it is written to fw/.stage/. When every file is complete and re-read to its SHA-256,
# the stage is renamed to fw/<version>/ and fw_boot.activate() makes it the version on trial
# (one atomic write), then the board resets. The trial version confirms itself once it has
# published its state on the broker (fw_boot.confirm); fw_boot rolls it back otherwise.
# Progress goes out retained on P/ota/status.

import asyncio
import binascii
import hashlib
import json
import os

import machine

import fw_boot
import fw_log
import fw_store
import fw_time

CHUNK_TIMEOUT_S = 10
CHUNK_TRIES = 3
RESERVE = 32 * 1024  # flash kept free for the configuration and the file system itself


class Refused(Exception):
    """The offer cannot be installed; the message says why (reported as `failed`)."""


class Interrupted(Exception):
    """The connection went during the download: nothing to report to; the retained offer
    comes again on the next connection and the download starts over."""


def parse_version(text):
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        raise ValueError(text)
    return tuple(int(x) for x in parts)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def rmtree(path):
    try:
        names = os.listdir(path)
    except OSError:
        return
    for name in names:
        sub = fw_store.join(path, name)
        if os.stat(sub)[0] & 0x4000:
            rmtree(sub)
        else:
            os.remove(sub)
    os.rmdir(path)


def free_bytes(root):
    try:
        st = os.statvfs(root)
    except (OSError, AttributeError):
        return None
    return st[0] * st[4]


def check_offer(offer, pubkey, running, free):
    """-> the manifest (dict) when the offer may be installed; Refused says why not.
    Nothing is written before this passes."""
    try:
        text = offer["manifest"]
        sig = binascii.a2b_base64(offer["sig"])
    except Exception:
        raise Refused("malformed offer")
    if not pubkey:
        raise Refused("no update key in the factory data")
    body = text.encode() if isinstance(text, str) else text
    # Imported only when an update is offered, and dropped after: its bytecode and constants
    # need not sit in the heap of a unit that is just running (docs/updates.md, RAM).
    import sys
    import ota_ed25519
    try:
        good = ota_ed25519.verify(pubkey, body, sig)
    finally:
        sys.modules.pop("ota_ed25519", None)
    if not good:
        raise Refused("bad signature")
    m = json.loads(body)
    version = m["version"]
    if version != offer.get("version"):
        raise Refused("offer and manifest name different versions")
    new, cur = parse_version(version), parse_version(running)
    if new == cur:
        raise Refused("already running %s" % running)
    if new < cur and not offer.get("force"):
        raise Refused("downgrade from %s to %s refused" % (running, version))
    low = m.get("min_previous")
    if low and cur < parse_version(low) and not offer.get("force"):
        raise Refused("needs %s or later, running %s" % (low, running))
    size = sum(f["size"] for f in m["files"])
    if free is not None and size + RESERVE > free:
        raise Refused("too large for the flash: %d bytes, %d free" % (size, free))
    for f in m["files"]:
        name = f["name"]
        if "/" in name or name.startswith(".") or name in ("main.py", "fw_boot.py",
                                                          "fw_boot.mpy", fw_boot.FILES):
            raise Refused("bad file name in the manifest: %s" % name)
    return m


class Updater:
    def __init__(self, ctl):
        self.ctl = ctl
        self.root = ctl.root
        key = fw_store.load_json(ctl.root, "factory.json").get("ota_key")
        try:
            self.pubkey = binascii.unhexlify(key) if key else None
        except Exception:
            self.pubkey = None
        self._offers = []
        self._wake = asyncio.Event()
        self._data = None
        self._data_ev = asyncio.Event()
        self._done = set()  # offer ids refused or finished since boot
        p = fw_boot.pointer(ctl.root)  # the offer of the update just installed (or rolled back)
        for entry in (p.get("trial"), p.get("result")):  # is retained: never take it again
            if entry is not None:
                self._done.add(entry.get("id"))
        self.current = None  # the offer id being installed

    # ---- MQTT glue (called by the controller) ----

    def topics(self, prefix):
        return [prefix + "/ota/offer", prefix + "/ota/data"]

    def owns(self, topic, prefix):
        return topic.startswith(prefix + "/ota/")

    def on_message(self, topic, payload, prefix):
        if topic == prefix + "/ota/data":
            self._data = payload
            self._data_ev.set()
            return
        if topic != prefix + "/ota/offer" or not payload:
            return
        try:
            offer = json.loads(payload)
            oid = offer["id"]
        except Exception:
            fw_log.log("ota: malformed offer ignored")
            return
        if oid in self._done or oid == self.current:
            return
        self._offers.append(offer)
        self._wake.set()

    def on_online(self):
        """Report what the last update came to; confirm a version on trial once its state has
        gone out."""
        p = fw_boot.pointer(self.root)
        r = p.get("result")
        if r is not None:
            self._report(r["id"], r["version"], r["state"], reason=r.get("reason"))
            self._done.add(r["id"])
        if p.get("trial") is not None:
            self._done.add(p["trial"]["id"])
            self._offers.append({"confirm": True})
            self._wake.set()

    def _report(self, oid, version, state, progress=None, reason=None):
        body = {"id": oid, "version": version, "state": state, "running": self.ctl.fw_version,
                "ts": fw_time.iso(self.ctl.now())}
        if progress is not None:
            body["progress"] = progress
        if reason is not None:
            body["reason"] = reason
        fw_log.log("ota:", state, version, reason or "")
        self.ctl._enqueue("ota/status", body, True)

    # ---- the work ----

    async def run(self):
        while True:
            if not self._offers:
                self._wake.clear()
                await self._wake.wait()
            offer = self._offers.pop(0)
            if offer.get("confirm"):
                await self._confirm()
                continue
            await self._install(offer)

    async def _confirm(self):
        # The state is out when the sender has emptied the outbox (each publish awaits PUBACK).
        while self.ctl.client is not None and self.ctl._outbox:
            await asyncio.sleep(0.05)
        if self.ctl.client is None:
            return  # offline again before the state went out: the next connection confirms
        r = fw_boot.confirm(self.root)
        if r is not None:
            self._report(r["id"], r["version"], "confirmed")

    async def _install(self, offer):
        oid, version = offer.get("id"), offer.get("version")
        self.current = oid
        try:
            self._report(oid, version, "offered")
            self._clean()
            m = check_offer(offer, self.pubkey, self.ctl.fw_version, free_bytes(self.root))
            self._report(oid, version, "downloading", progress=0)
            await self._download(oid, m)
            self._report(oid, version, "verifying")
            self._verify(m)
            self._swap(m, oid)
        except Refused as e:
            self._fail(oid, version, str(e))
            return
        except Interrupted:
            fw_log.log("ota: offline during the download; starting over when back")
            rmtree(self._stage())
            return
        except Exception as e:  # a flash error, a broken manifest: the unit stays as it is
            self._fail(oid, version, "install failed: %r" % e)
            return
        finally:
            self.current = None
        self._report(oid, version, "installed")
        await self._flush()
        fw_log.log("ota: restarting into", version)
        machine.reset()

    def _fail(self, oid, version, reason):
        self._done.add(oid)
        try:
            rmtree(self._stage())
        except OSError:
            pass
        self._report(oid, version, "failed", reason=reason)

    async def _flush(self, within_s=5):
        for _ in range(within_s * 20):
            if self.ctl.client is None or not self.ctl._outbox:
                return
            await asyncio.sleep(0.05)

    def _stage(self):
        return stage_dir(self.root)

    def _clean(self):
        clean(self.root)

    async def _chunk(self, oid, name, index):
        ask = json.dumps({"id": oid, "file": name, "chunk": index}).encode()
        for _ in range(CHUNK_TRIES):
            prefix = self.ctl.topic_prefix
            if self.ctl.client is None or prefix is None:
                raise Interrupted()
            self._data = None
            self._data_ev.clear()
            try:
                await self.ctl.client.publish(prefix + "/ota/get", ask)
            except Exception:  # the connection dropped under the request
                raise Interrupted()
            try:
                await asyncio.wait_for(self._data_ev.wait(), CHUNK_TIMEOUT_S)
            except asyncio.TimeoutError:
                continue
            raw = self._data
            nl = raw.find(b"\n")
            try:
                head = json.loads(raw[:nl])
            except Exception:
                continue
            if head.get("id") == oid and head.get("file") == name and head.get("chunk") == index:
                return raw[nl + 1:]
        raise Refused("download stalled at %s chunk %d" % (name, index))

    async def _download(self, oid, m):
        stage = self._stage()
        rmtree(stage)
        os.mkdir(stage)
        total = sum(f["size"] for f in m["files"]) or 1
        got, shown = 0, 0
        for f in m["files"]:
            name = f["name"]
            whole = hashlib.sha256()
            with open(fw_store.join(stage, name), "wb") as out:
                for index, want in enumerate(f["chunks"]):
                    data = await self._chunk(oid, name, index)
                    if binascii.hexlify(hashlib.sha256(data).digest()).decode() != want:
                        raise Refused("%s chunk %d: hash mismatch" % (name, index))
                    out.write(data)
                    whole.update(data)
                    got += len(data)
                    pct = got * 100 // total
                    if pct >= shown + 10:
                        shown = pct - pct % 10
                        self._report(oid, m["version"], "downloading", progress=shown)
                fw_store._sync(out)
            if binascii.hexlify(whole.digest()).decode() != f["sha256"]:
                raise Refused("%s: hash mismatch" % name)
        listing = {}
        for f in m["files"]:
            listing[f["name"]] = f["size"]
        with open(fw_store.join(stage, fw_boot.FILES), "w") as out:
            json.dump(listing, out)
            fw_store._sync(out)

    def _verify(self, m):
        verify_stage(self.root, m)

    def _swap(self, m, oid):
        swap(self.root, m, oid)


def stage_dir(root):
    return fw_store.join(fw_store.join(root, fw_boot.FW_DIR), fw_boot.STAGE)


def clean(root):
    """Remove a stage left by a cut download and every version folder that is neither
    active nor the fallback, so their flash counts as free."""
    base = fw_store.join(root, fw_boot.FW_DIR)
    p = fw_boot.pointer(root)
    keep = (p.get("active"), p.get("previous"))
    try:
        names = os.listdir(base)
    except OSError:
        os.mkdir(base)
        names = []
    for name in names:
        if name not in keep:
            rmtree(fw_store.join(base, name))


def verify_stage(root, m):
    """Read every staged file back: what the flash holds is what was signed."""
    stage = stage_dir(root)
    for f in m["files"]:
        h = hashlib.sha256()
        with open(fw_store.join(stage, f["name"]), "rb") as src:
            while True:
                block = src.read(1024)
                if not block:
                    break
                h.update(block)
        if binascii.hexlify(h.digest()).decode() != f["sha256"]:
            raise Refused("%s: hash mismatch on the flash" % f["name"])


def swap(root, m, oid):
    """The complete stage becomes fw/<version>/ (one rename), then the pointer names it, on
    trial (one atomic write). A power cut before the pointer's write boots the old version."""
    target = fw_boot.folder(root, m["version"])
    if _exists(target):
        rmtree(target)
    os.rename(stage_dir(root), target)
    fw_store._sync_dir(fw_store.join(root, fw_boot.FW_DIR))
    fw_boot.activate(root, m["version"], oid)
