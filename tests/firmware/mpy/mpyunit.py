# A tiny test runner that works under MicroPython (and CPython). A script marks its cases with
# @case and ends with main(); `micropython script.py NAME...` runs the named cases (all when
# none are named) and prints one result line per case: RESULT_TAG + JSON
# {"case": name, "ok": true|false, "error": traceback text}. tests/support/micropython.py
# reads those lines; each case is its own pytest item there.

import io
import json
import os
import sys

RESULT_TAG = "@@MPY "
_cases = {}
_order = []


def case(fn):
    _cases[fn.__name__] = fn
    _order.append(fn.__name__)
    return fn


def emit(obj):
    print(RESULT_TAG + json.dumps(obj))


def eq(got, want, what=""):
    if got != want:
        raise AssertionError("%s: got %r, want %r" % (what or "value", got, want))


def vectors(name):
    with open(os.getenv("PD_VECTORS") + "/" + name + ".json") as f:
        return json.load(f)


def h(text):
    import binascii

    return binascii.unhexlify(text)


def hx(data):
    import binascii

    return binascii.hexlify(data).decode()


def _traceback(e):
    buf = io.StringIO()
    if hasattr(sys, "print_exception"):
        sys.print_exception(e, buf)
    else:  # CPython
        import traceback

        traceback.print_exception(type(e), e, e.__traceback__, file=buf)
    return buf.getvalue()


def _run_one(name):
    import asyncio

    fn = _cases.get(name)
    if fn is None:
        emit({"case": name, "ok": False, "error": "no such case"})
        return
    try:
        r = fn()
        if r is not None and hasattr(r, "send"):  # a coroutine: run it on a fresh loop
            asyncio.run(r)
        emit({"case": name, "ok": True})
    except Exception as e:
        emit({"case": name, "ok": False, "error": _traceback(e)})


def main():
    names = sys.argv[1:] or _order
    for name in names:
        _run_one(name)
