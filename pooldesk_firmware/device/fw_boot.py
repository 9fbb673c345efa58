# Which firmware version boots, and the trial of a new one (docs/updates.md).
#
# This file and main.py stay in the flash root and are never replaced by an update: they are
# the part that must work to get back to a good version. Versions installed over the air live
# in "fw/<version>/" (complete folders: an update is staged elsewhere and renamed into place);
# the pointer file "boot.json", written with fw_store's power-cut-safe save, names the active
# one. No pointer, or "active" null: the files in the root (as flashed) run.
#
# boot.json: {"active": "0.5.0"|null, "previous": "0.4.0"|null,
#             "trial": {"id", "version", "boots"}|null, "result": {"id", "version", "state",
#             "reason"?}|null}
# A version on trial that starts MAX_TRIES times without confirming (it crashed or was reset
# each time), or that is not confirmed within TRIAL_S of its start, is rolled back: "active"
# goes back to "previous" and "result" says rolled_back and why; the previous version reports it.

import fw_store

POINTER = "boot.json"
FW_DIR = "fw"
STAGE = ".stage"
FILES = "files.json"
MAX_TRIES = 3
TRIAL_S = 120


def folder(root, version):
    return fw_store.join(fw_store.join(root, FW_DIR), version)


def _load(root):
    store = fw_store.Store(root, POINTER)
    return store, store.load()


def pointer(root):
    return _load(root)[1]


def complete(root, version):
    """True when fw/<version>/ holds every file its files.json lists, at the listed size."""
    import os
    base = folder(root, version)
    listing = fw_store.load_json(base, FILES)
    if not listing:
        return False
    for name in listing:
        try:
            if os.stat(fw_store.join(base, name))[6] != listing[name]:
                return False
        except OSError:
            return False
    return True


def _rollback(store, p, reason):
    trial = p.get("trial") or {}
    p["result"] = {"id": trial.get("id"), "version": trial.get("version") or p.get("active"),
                   "state": "rolled_back", "reason": reason}
    p["active"] = p.get("previous")
    p["previous"] = None
    p["trial"] = None
    store.save(p)


def choose(root):
    """Decide what boots now. -> (folder of the version or None for the root files, the trial
    dict or None). Counts a boot of a version on trial and rolls it back after MAX_TRIES."""
    store, p = _load(root)
    trial = p.get("trial")
    if trial is not None:
        if trial.get("boots", 0) >= MAX_TRIES:
            _rollback(store, p, "did not start: %d boots without reaching the broker"
                      % MAX_TRIES)
        else:
            trial["boots"] = trial.get("boots", 0) + 1
            store.save(p)
    active = p.get("active")
    while active and not complete(root, active):
        _rollback(store, p, "files of %s incomplete" % active)
        active = p.get("active")
    return (folder(root, active) if active else None), p.get("trial")


def activate(root, version, update_id):
    """The swap: fw/<version>/ is complete; make it the active version, on trial (one atomic
    write). Before this returns the old version boots; after, the new one on trial."""
    store, p = _load(root)
    p["previous"] = p.get("active")
    p["active"] = version
    p["trial"] = {"id": update_id, "version": version, "boots": 0}
    p["result"] = None
    store.save(p)


def confirm(root):
    """The version on trial reached the broker and published its state: keep it.
    -> the result to report, or None when no trial was running."""
    store, p = _load(root)
    trial = p.get("trial")
    if trial is None:
        return None
    p["result"] = {"id": trial.get("id"), "version": trial.get("version"), "state": "confirmed"}
    p["trial"] = None
    p["previous"] = None  # its folder is removed by the next update's clean-up
    store.save(p)
    return p["result"]


def expire(root, seconds=TRIAL_S):
    """The trial's time is up: roll back if it is still not confirmed. -> True when it did (the
    caller resets the board)."""
    store, p = _load(root)
    if p.get("trial") is None:
        return False
    _rollback(store, p, "not online within %d s of starting" % seconds)
    return True


def result(root):
    return pointer(root).get("result")


def clear_result(root, update_id):
    store, p = _load(root)
    r = p.get("result")
    if r is not None and r.get("id") == update_id:
        p["result"] = None
        store.save(p)


def _arm_timer(root):
    """The trial's deadline, kept by the part that is never updated. On the ESP32 port the
    timer's callback is scheduled (not a hard IRQ), so it may write the pointer file."""
    import machine

    def fire(_t):
        if expire(root):
            machine.reset()

    try:
        timer = machine.Timer(0)
        timer.init(mode=machine.Timer.ONE_SHOT, period=TRIAL_S * 1000, callback=fire)
    except Exception as e:  # no such timer: the boot count still rolls a broken version back
        print("fw_boot: no trial timer:", repr(e))
        return None
    return timer


def run(root="/"):
    """main.py: pick the version, put its folder first on the module path, start it."""
    import sys
    path, trial = choose(root)
    if path is not None:
        sys.path.insert(0, path)
        sys.modules.pop("fw_store", None)  # the version brings its own copy
    if trial is not None:
        _arm_timer(root)
    import fw_app
    fw_app.run(root)
