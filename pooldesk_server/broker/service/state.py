"""What the parts of the broker layer share: the back end, the app context once started, the
per-login locks, the service logins that may be left at the broker, the reconcile loop's wake-up."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from pooldesk_server.broker.base import BrokerBackend, BrokerError
from pooldesk_server.broker.keyed_locks import KeyedLocks
from pooldesk_server.broker.mosquitto import BrokerConfigError
from pooldesk_server.broker.service.config import (
    MAX_SESSIONS_PER_USER,
    RETRY_AFTER_S,
    build_backend,
    positive,
    public_broker_ca,
)
from pooldesk_server.context import AppContext
from pooldesk_server.http.errors import ApiError
from pooldesk_server.settings import Settings

if TYPE_CHECKING:
    from pooldesk_server.recorder.recorder import Recorder


def broker_unavailable(error: BrokerError | str) -> ApiError:
    return ApiError(
        503,
        "broker_unavailable",
        f"The MQTT broker cannot issue credentials right now: {error}",
        {"Retry-After": str(RETRY_AFTER_S)},
    )


class BrokerState:
    """Built from the settings (or given a back end); bad settings are kept in `config_error`
    and answered with 503, never raised at start-up."""

    def __init__(self, settings: Settings, backend: BrokerBackend | None = None) -> None:
        self.settings = settings
        self.backend = backend  # None: not configured (see `config_error`)
        self.config_error: str | None = None
        if backend is None:
            try:
                self.backend = build_backend(settings)
            except BrokerConfigError as error:
                self.config_error = str(error)
        self.start_error: str | None = None  # why the back end did not start, until it does
        self.ctx: AppContext | None = None  # set when the app starts
        self.recorder: Recorder | None = None
        self.locks = KeyedLocks()  # per login name (and `job:<id>`): orders work in-process
        self.strays: set[str] = set()  # service logins that may be left at the broker
        self.wake = asyncio.Event()  # cuts the reconcile loop's wait short
        self.jobs_due_now = False  # the next reconcile runs every job, due or not
        self.background: set[asyncio.Task[None]] = set()
        self.max_sessions = MAX_SESSIONS_PER_USER
        self.public_ca: str | None = None
        try:
            self.max_sessions = positive(
                settings.broker_env, "POOLDESK_MQTT_MAX_SESSIONS_PER_USER", MAX_SESSIONS_PER_USER
            )
            self.public_ca = public_broker_ca(settings.broker_env)
        except BrokerConfigError as error:
            self.config_error = self.config_error or str(error)

    def configured_backend(self) -> BrokerBackend:
        """The back end, or a 503 saying why there is none."""
        if self.backend is None:
            raise broker_unavailable(self.config_error or "no broker configured")
        return self.backend

    def ready_backend(self) -> BrokerBackend:
        """The back end if it started, or a 503 saying why not."""
        backend = self.configured_backend()
        if self.start_error:
            raise broker_unavailable(self.start_error)
        return backend

    def app(self) -> AppContext:
        assert self.ctx is not None, "the broker layer has not been started"
        return self.ctx

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run `work` in the background; `BrokerExtension.stop` cancels what is left."""
        task = asyncio.create_task(work, name=name)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task
