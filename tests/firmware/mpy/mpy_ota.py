# Firmware updates under the real MicroPython interpreter: SHA-512 and Ed25519 against their
# published vectors, the offer checks on a real signed manifest, and fw_boot's swap, trial and
# rollback on real files. PD_OTA names a folder the CPython side prepared (offer.json, key,
# stage/ with the release's files).
import json
import os
import time

import fw_boot
import fw_ota
import ota_ed25519
from mpyunit import case, emit, eq, h, hx, main, vectors


def _prep():
    return os.getenv("PD_OTA")


def _read(name):
    with open(_prep() + "/" + name) as f:
        return f.read()


@case
def sha512_vectors():
    for v in vectors("ota_ed25519")["sha512"]:
        eq(hx(ota_ed25519.SHA512(h(v["message"])).digest()), v["digest"], "sha512")
        d = ota_ed25519.SHA512()
        m = h(v["message"])
        for i in range(0, len(m), 37):  # chunked updates give the same digest
            d.update(m[i : i + 37])
        eq(hx(d.digest()), v["digest"], "sha512 chunked")


@case
def ed25519_rfc8032():
    for v in vectors("ota_ed25519")["ed25519"]:
        pk, msg, sig = h(v["public"]), h(v["message"]), h(v["signature"])
        eq(ota_ed25519.verify(pk, msg, sig), True, v["name"])
        eq(ota_ed25519.verify(pk, msg + b"x", sig), False, v["name"] + " other message")
        bad = bytearray(sig)
        bad[0] ^= 1
        eq(ota_ed25519.verify(pk, msg, bytes(bad)), False, v["name"] + " bad R")
        bad = bytearray(sig)
        bad[40] ^= 1
        eq(ota_ed25519.verify(pk, msg, bytes(bad)), False, v["name"] + " bad S")


@case
def verify_timing():
    offer = json.loads(_read("offer.json"))
    key = h(_read("key.hex").strip())
    import binascii

    sig = binascii.a2b_base64(offer["sig"])
    body = offer["manifest"].encode()
    t0 = time.ticks_ms()
    ok = ota_ed25519.verify(key, body, sig)
    ms = time.ticks_diff(time.ticks_ms(), t0)
    eq(ok, True, "verify")
    emit({"measure": "ed25519_verify_ms", "value": ms, "manifest_bytes": len(body)})
    # RAM: the most a verify keeps reachable, sampled after every point addition (collected
    # first, so garbage does not count: the board's GC reclaims it as it goes).
    import gc

    gc.collect()
    base = gc.mem_alloc()
    peak = [0]
    add = ota_ed25519._add

    def sampling_add(p, q):
        r = add(p, q)
        gc.collect()  # what is still reachable mid-verify
        used = gc.mem_alloc() - base
        if used > peak[0]:
            peak[0] = used
        return r

    ota_ed25519._add = sampling_add
    try:
        eq(ota_ed25519.verify(key, body, sig), True, "verify again")
    finally:
        ota_ed25519._add = add
    emit({"measure": "ed25519_verify_heap_bytes", "value": peak[0]})
    # what an offer holds once parsed and checked: the payload as MQTT hands it over, the
    # offer dict and the parsed manifest
    raw = _read("offer.json").encode()
    gc.collect()
    base = gc.mem_alloc()
    offer2 = json.loads(raw)
    m = fw_ota.check_offer(offer2, key, "0.4.0", None)
    gc.collect()
    emit(
        {
            "measure": "offer_held_bytes",
            "value": gc.mem_alloc() - base,
            "payload_bytes": len(raw),
            "files": len(m["files"]),
        }
    )


@case
def offer_checks():
    offer = json.loads(_read("offer.json"))
    key = h(_read("key.hex").strip())
    m = fw_ota.check_offer(offer, key, "0.4.0", 10 * 1024 * 1024)
    eq(m["version"], "0.5.0", "accepted")

    def refused(o, running, free, want):
        try:
            fw_ota.check_offer(o, key, running, free)
        except fw_ota.Refused as e:
            if want not in str(e):
                raise AssertionError("refused with %r, want %r" % (str(e), want)) from None
            return
        raise AssertionError("accepted, want refused: " + want)

    tampered = dict(offer)
    tampered["manifest"] = offer["manifest"].replace('"0.5.0"', '"0.5.1"')
    tampered["version"] = "0.5.1"
    refused(tampered, "0.4.0", None, "bad signature")
    refused(offer, "0.6.0", None, "downgrade from 0.6.0 to 0.5.0 refused")
    refused(offer, "0.5.0", None, "already running 0.5.0")
    refused(offer, "0.4.0", 20000, "too large for the flash")
    forced = dict(offer)
    forced["force"] = True
    eq(fw_ota.check_offer(forced, key, "0.6.0", None)["version"], "0.5.0", "forced downgrade")
    other = bytearray(key)
    other[3] ^= 1
    try:
        fw_ota.check_offer(offer, bytes(other), "0.4.0", None)
        raise AssertionError("another key accepted")
    except fw_ota.Refused as e:
        eq(str(e), "bad signature", "other key")


def _root():
    return _prep() + "/flash"


@case
def swap_then_trial_boots_roll_back():
    root = _root()
    offer = json.loads(_read("offer.json"))
    m = json.loads(offer["manifest"])
    fw_ota.verify_stage(root, m)  # the staged .mpy files are what was signed
    fw_ota.swap(root, m, "mpy-1")
    eq(fw_boot.pointer(root)["active"], "0.5.0", "active")
    eq(fw_boot.complete(root, "0.5.0"), True, "complete")
    for n in range(fw_boot.MAX_TRIES):
        path, trial = fw_boot.choose(root)
        eq(path, root + "/fw/0.5.0", "boot %d" % n)
        eq(trial["boots"], n + 1, "counted")
    path, trial = fw_boot.choose(root)  # one boot too many without confirming
    eq(path, None, "rolled back to the root files")
    eq(trial, None, "no trial")
    r = fw_boot.result(root)
    eq(r["state"], "rolled_back", "result")
    eq(r["id"], "mpy-1", "result id")


@case
def swap_then_confirm_keeps_the_version():
    root = _root()
    offer = json.loads(_read("offer.json"))
    m = json.loads(offer["manifest"])
    fw_ota.clean(root)  # removes the folder the rolled-back update left
    eq(os.listdir(root + "/fw"), [], "cleaned")
    # stage again (the previous case's swap moved its stage; the CPython side made two)
    os.rename(_prep() + "/stage2", root + "/fw/.stage")
    fw_ota.verify_stage(root, m)
    fw_ota.swap(root, m, "mpy-2")
    path, trial = fw_boot.choose(root)
    eq(path, root + "/fw/0.5.0", "trial boot")
    eq(fw_boot.confirm(root)["state"], "confirmed", "confirmed")
    path, trial = fw_boot.choose(root)
    eq((path, trial), (root + "/fw/0.5.0", None), "kept, no trial")
    eq(fw_boot.expire(root), False, "nothing to expire")


main()
