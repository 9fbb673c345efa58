"""`pooldesk-backend recorder`: the recorder as its own process, beside `serve` or on another host.

Several processes may run it at once (set `POOLDESK_RECORDER_INSTANCE` to a distinct name in
each): they share the `$share/recorder/...` subscription, so each message is stored once.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from pooldesk_server.broker.logins import recorder_login
from pooldesk_server.broker.managed import ManagedMosquitto
from pooldesk_server.broker.mosquitto import BrokerConfigError
from pooldesk_server.broker.service.config import build_backend
from pooldesk_server.db.engine import Database
from pooldesk_server.recorder.recorder import Recorder
from pooldesk_server.settings import Settings

log = logging.getLogger("pooldesk_server.recorder")


async def run_recorder(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Record until `stop` is set (or forever). With the managed broker, `serve` must be running
    on the same data folder: the recorder joins its broker instead of starting one."""
    backend = build_backend(settings)
    url = urlsplit(backend.broker_url) if not isinstance(backend, ManagedMosquitto) else None
    if isinstance(backend, ManagedMosquitto):
        await backend.attach()
        host, port = "127.0.0.1", backend.port
    elif url is not None and url.scheme == "mqtt" and url.hostname and url.port:
        await backend.start()
        host, port = url.hostname, url.port
    else:
        raise BrokerConfigError("the recorder needs a plain mqtt:// broker URL (MQTT_BROKER_URL)")
    database = Database(settings.database_url)
    login = recorder_login(settings.broker_env.get("POOLDESK_RECORDER_INSTANCE", "standalone"))

    async def put_back() -> None:  # the login was deleted or replaced: ours is the right one
        await backend.put_login(login)

    recorder = Recorder(database, host, port, login, on_refused=put_back)
    try:
        await backend.put_login(login)
        await recorder.start()
        log.info("recording device traffic from %s:%d as %s", host, port, login.username)
        await (stop or asyncio.Event()).wait()
    finally:
        await recorder.stop()
        await database.dispose()
        if isinstance(backend, ManagedMosquitto):
            await backend.detach()
        else:
            await backend.stop()
