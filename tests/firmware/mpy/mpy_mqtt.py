# fw_mqtt.Client under MicroPython against a real Mosquitto that wants a login.
# PD_PORT: the broker's port; PD_USER / PD_PASSWORD: a login it accepts.
import asyncio
import os

import fw_mqtt
from mpyunit import case, eq, main

PORT = int(os.getenv("PD_PORT") or "0")
USER = os.getenv("PD_USER")
PASSWORD = os.getenv("PD_PASSWORD")


def client(name, password=None, **kw):
    return fw_mqtt.Client(
        "127.0.0.1",
        PORT,
        name,
        user=USER,
        password=PASSWORD if password is None else password,
        **kw,
    )


async def until(pred, within_s, what):
    for _ in range(int(within_s * 50)):
        if pred():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within %s s: %s" % (within_s, what))


class Inbox:
    def __init__(self):
        self.got = []

    async def __call__(self, topic, payload, retained):
        self.got.append((topic, payload, retained))


@case
async def publish_and_receive_qos1_and_retained():
    inbox = Inbox()
    sub = client("mpy-sub", on_message=inbox)
    await sub.connect()
    await sub.subscribe(["mpy/test/#"])
    pub = client("mpy-pub")
    await pub.connect()
    await pub.publish("mpy/test/a", b'{"on": true}', retain=False)
    await pub.publish("mpy/test/r", b"kept", retain=True)
    await until(lambda: len(inbox.got) >= 2, 5, "two messages")
    eq(inbox.got[0], ("mpy/test/a", b'{"on": true}', False), "live message")
    await pub.disconnect()
    await sub.disconnect()
    late = Inbox()
    again = client("mpy-late", on_message=late)
    await again.connect()
    await again.subscribe(["mpy/test/r"])
    await until(lambda: late.got, 5, "the retained message")
    eq(late.got[0], ("mpy/test/r", b"kept", True), "replayed with the retain flag")
    await again.publish("mpy/test/r", b"", retain=True)
    await again.disconnect()


@case
async def a_refused_login_is_reported_as_broker_auth():
    c = client("mpy-wrong", password="not-the-password")
    try:
        await c.connect()
    except fw_mqtt.ConnectRefused as e:
        assert e.auth, "code %d is a login refusal" % e.code
        assert "refused" in str(e), str(e)
        eq(c.connected, False, "connected")
        return
    raise AssertionError("a wrong password was accepted")


@case
async def abort_closes_the_socket_so_the_will_goes_out_at_once():
    """Without `await wait_closed()` MicroPython never closes the socket: the broker would send
    the will only after 1.5 x keepalive (45 s here)."""
    inbox = Inbox()
    watcher = client("mpy-watch", on_message=inbox)
    await watcher.connect()
    await watcher.subscribe(["mpy/will/status"])
    dying = client("mpy-dying", keepalive=30, will=("mpy/will/status", b"offline", 1, False))
    await dying.connect()
    dying.abort()
    await until(lambda: inbox.got, 3, "the will after abort()")
    eq(inbox.got[0][1], b"offline", "will")
    await watcher.disconnect()


@case
async def disconnect_closes_the_socket_without_the_will():
    inbox = Inbox()
    watcher = client("mpy-watch2", on_message=inbox)
    await watcher.connect()
    await watcher.subscribe(["mpy/will2/status"])
    polite = client("mpy-polite", keepalive=30, will=("mpy/will2/status", b"offline", 1, False))
    await polite.connect()
    await polite.disconnect()
    # MicroPython's Stream keeps its socket in .s; a closed socket's fileno() is -1
    eq(polite._writer.s.fileno(), -1, "socket after disconnect()")
    await asyncio.sleep(0.5)
    eq(inbox.got, [], "no will after a clean disconnect")
    await watcher.disconnect()


main()
