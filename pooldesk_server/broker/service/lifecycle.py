"""Starting the broker back end and the in-process recorder, and what follows a broker restart."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from sqlalchemy import select, update

from pooldesk_contract.topics import STATUS
from pooldesk_server.broker.base import BrokerError
from pooldesk_server.broker.logins import recorder_login
from pooldesk_server.broker.managed import ManagedMosquitto
from pooldesk_server.broker.retained import publish_retained
from pooldesk_server.broker.rights import AclRule
from pooldesk_server.broker.service.state import BrokerState
from pooldesk_server.db.models import Device

log = logging.getLogger("pooldesk_server.broker")


class BackendRunner:
    def __init__(self, state: BrokerState) -> None:
        self.state = state
        self.attached = False  # reached the broker another worker runs (`attach_backend`)

    def recorder_wanted(self) -> bool:
        backend = self.state.backend
        return (
            backend is not None
            and self.state.settings.broker_env.get("POOLDESK_RECORDER", "1") != "0"
            and urlsplit(backend.broker_url).scheme == "mqtt"
        )

    async def _reach(self, *, attach: bool) -> bool:
        """Start the back end (or attach to the managed broker another worker runs); on
        failure keep why in `start_error` (logged once) and return False."""
        state = self.state
        backend = state.backend
        assert backend is not None
        try:
            if attach and isinstance(backend, ManagedMosquitto):
                await backend.attach()
            else:
                await backend.start()
        except BrokerError as error:
            if state.start_error != str(error):
                verb = "not reached yet" if attach else "not started"
                log.error("MQTT broker (%s) %s: %s", backend.name, verb, error)
            state.start_error = str(error)
            return False
        return True

    async def start_backend(self) -> bool:
        state = self.state
        backend = state.backend
        assert backend is not None
        if not await self._reach(attach=False):
            return False
        if state.start_error:
            log.info("MQTT broker (%s) started after all", backend.name)
        state.start_error = None
        log.info("MQTT broker (%s) at %s", backend.name, backend.broker_url)
        if isinstance(backend, ManagedMosquitto):
            backend.on_respawn = self.after_broker_restart
            await self.after_broker_restart()
        await self.start_recorder()
        return True

    async def attach_backend(self) -> bool:
        """In a worker other than the primary (`serve --workers N`): reach the broker the
        primary runs (the managed one: `ManagedMosquitto.attach`; another: connect as every
        instance does) to issue and delete logins from this process's requests. Nothing is
        started, supervised or recorded here. Retried by the health loop until it works."""
        if not await self._reach(attach=True):
            return False
        self.state.start_error = None
        self.attached = True
        return True

    async def after_broker_restart(self) -> None:
        """The managed broker (re)started: every device was cut, and Mosquitto sent none of their
        wills; the retained `status` it restored may be `online` for a device that is gone, and
        messages it redelivers (acknowledged after its last save) may say `online` too. So every
        device is `offline` until it says otherwise: in the database, and as a retained
        `offline` published now — after anything the broker restored, so the recorder applies it
        after any redelivered message, and before devices reconnect (their firmware waits at
        least 1 s before reconnecting) and announce `online` again."""
        ctx, backend = self.state.ctx, self.state.backend
        if ctx is None or backend is None:
            return
        async with ctx.db.write() as db:
            prefixes = list(await db.scalars(select(Device.topic_prefix)))
            await db.execute(
                update(Device).where(Device.status != "offline").values(status="offline")
            )
        if not prefixes:
            return
        try:
            await publish_retained(
                backend,
                {STATUS.under(prefix): b"offline" for prefix in prefixes},
                rights=(AclRule("publishClientSend", STATUS.of_every_device),),
                strays=self.state.strays,
            )
        except BrokerError as error:
            log.warning("device status not republished after the broker restart: %s", error)
        else:
            log.info(
                "broker (re)started: %d device(s) marked offline until heard from", len(prefixes)
            )

    async def start_recorder(self) -> None:
        """Record device traffic in-process (unless POOLDESK_RECORDER=0)."""
        state = self.state
        backend = state.backend
        if state.recorder is not None or state.ctx is None or backend is None:
            return
        if state.settings.broker_env.get("POOLDESK_RECORDER", "1") == "0":
            return
        url = urlsplit(backend.broker_url)
        if url.scheme != "mqtt" or not url.hostname or not url.port:
            log.warning("recorder not started: it needs a plain mqtt:// broker URL on this host")
            return
        from pooldesk_server.recorder.recorder import Recorder

        login = recorder_login(state.settings.broker_env.get("POOLDESK_RECORDER_INSTANCE", "main"))
        try:
            await backend.put_login(login)

            async def put_back() -> None:
                await backend.put_login(login)

            recorder = Recorder(state.ctx.db, url.hostname, url.port, login, on_refused=put_back)
            await recorder.start()
        except (BrokerError, TimeoutError) as error:
            log.error("recorder not started: %s", error)
            return
        state.recorder = recorder

    async def stop(self) -> None:
        """Stop the recorder, then the back end."""
        if self.state.recorder is not None:
            await self.state.recorder.stop()
            self.state.recorder = None
        backend = self.state.backend
        if backend is None:
            return
        primary = self.state.ctx is None or self.state.ctx.primary
        if isinstance(backend, ManagedMosquitto) and not primary:
            await backend.detach()  # the broker is the primary's: leave it (and its pid file)
        else:
            await backend.stop()
        self.attached = False
