"""The broker layer as a backend extension (loaded by `pooldesk_server/extensions.py`).

It serves `GET /api/auth/mqtt-credentials` and `POST /api/devices/{deviceId}/credentials`, deletes
logins at the broker when sessions, devices or accounts end (account events), and keeps the
`mqtt_logins` table and the broker in agreement:

    pending_put     written before the broker is asked; becomes `synced` once it answered
    synced          the broker has the login
    pending_delete  the login must go (session/device/account ended, replaced by a newer one,
                    or issuing failed); the reconcile loop deletes it at the broker, then the row

Every issue creates a login under a new name (`logins.new_generation`) with the owner's fixed
client id, and the owner's older logins are retired only after the broker confirmed the new one:
a failed or timed-out issue never touches the working login. Names are never reused and a row
never goes back from `pending_delete`, so a stale deletion cannot remove a fresh login, whichever
process runs it (the per-login lock only orders work inside one process). The reconcile loop
also removes session logins whose session is gone, revoked or expired, `pending_put` rows an issue
abandoned (a backend killed meanwhile) and all but the newest login of each session and device.
Each row keeps the login's password as a dynamic-security hash (`password_hash`), so `broker
sync` can put back on a managed broker the logins its lost store held, old passwords included.

A broker that is down while a credential is issued answers 503; one that is down while logins
are revoked delays the revocation (the request waits at most `INLINE_BUDGET_S`), and retained
messages to clear become `broker_jobs` rows, retried until they succeed. `/healthz` reads this
extension's cached `health_report()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import and_, delete, exists, func, not_, or_, select, update
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from pooldesk.core import api_types as api
from pooldesk_server.accounts.events import AccountEvent, RightsChanged
from pooldesk_server.audit.service import record
from pooldesk_server.broker.base import BrokerBackend, BrokerError, BrokerLogin, BrokerRejected
from pooldesk_server.broker.keyed_locks import KeyedLocks
from pooldesk_server.broker.logins import (
    dashboard_login,
    device_login,
    new_generation,
    recorder_login,
)
from pooldesk_server.broker.managed import LanListener, ManagedMosquitto
from pooldesk_server.broker.mosquitto import BrokerConfigError
from pooldesk_server.broker.retained import (
    clear_retained,
    publish_retained,
    remove_stray_logins,
    retained_prefix_of,
)
from pooldesk_server.broker.rights import (
    AclRule,
    Rights,
    dashboard_rights,
    device_rights,
    user_prefix,
)
from pooldesk_server.broker.store import HashedLogin, dynsec_password_hash
from pooldesk_server.context import AppContext, client_address, context_of
from pooldesk_server.db import rows_changed
from pooldesk_server.db.models import BrokerJob, Device, MqttLogin, User
from pooldesk_server.db.models import Session as UserSession
from pooldesk_server.db.types import utcnow
from pooldesk_server.devices.ids import normalize_device_id
from pooldesk_server.devices.service import (
    issue_api_key,
    mark_mqtt_logins_pending_delete,
)
from pooldesk_server.http.auth import require_user
from pooldesk_server.http.contract import BEARER, Operation
from pooldesk_server.http.errors import ApiError, not_found, unauthorized
from pooldesk_server.http.responses import answer
from pooldesk_server.http.routing import route
from pooldesk_server.settings import Settings
from pooldesk_server.sharing import service as sharing
from pooldesk_server.sharing.queries import REFRESH_RIGHTS, active_grants

if TYPE_CHECKING:
    from pooldesk_server.recorder.recorder import Recorder

log = logging.getLogger("pooldesk_server.broker")

RECONCILE_EVERY_S = 30.0
# A login still `pending_put` this long after it was written belongs to an issue that will never
# finish (the backend was killed meanwhile): its password was never handed out, so it goes.
ABANDONED_PUT_S = 120.0
RETRY_AFTER_S = 30
HEALTH_EVERY_S = 2.0
HEALTH_TIMEOUT_S = 3.0
MAX_SESSIONS_PER_USER = 20  # MQTT logins of signed-in apps per user (POOLDESK_MQTT_MAX_...)
MIN_FREE_BYTES = 64 * 2**20  # below this on the data folder's disk, /healthz says 503
INLINE_BUDGET_S = 1.5  # how long a revoking request waits for the broker before answering
JOB_RETRY_MAX_S = 3600.0  # longest wait between two tries of a broker job
SERVICE_LOGIN_PREFIXES = ("recorder-",)  # logins the backend keeps for itself, not in the table
# Every login PoolDesk makes is named with one of these; `broker sync` never touches other logins
# (an external Mosquitto may serve other clients too). `svc-` are short-lived service logins.
POOLDESK_LOGIN_PREFIXES = ("app-", "dev-", "svc-", "recorder-")

PUBLIC_URL_SCHEMES = ("mqtts", "wss")


def broker_kind(settings: Settings, env: Mapping[str, str]) -> str:
    """`POOLDESK_BROKER` if set; else hivemq-cloud with an API token, mosquitto with admin
    credentials, and the managed Mosquitto when nothing is configured."""
    if env.get("POOLDESK_BROKER"):
        return env["POOLDESK_BROKER"].strip().lower()
    if settings.hivemq_api_token or env.get("HIVEMQ_API_TOKEN"):
        return "hivemq-cloud"
    if env.get("MOSQUITTO_ADMIN_USER"):
        return "mosquitto"
    return "managed"


def _port(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name)
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise BrokerConfigError(f"{name} must be a port number (1-65535), not {raw!r}")
    return int(raw)


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise BrokerConfigError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def _public_broker(env: Mapping[str, str]) -> str | None:
    """Check POOLDESK_MQTT_PUBLIC_URL; return the CA of POOLDESK_MQTT_PUBLIC_CA_FILE, if set."""
    url = env.get("POOLDESK_MQTT_PUBLIC_URL", "").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in PUBLIC_URL_SCHEMES or not parts.hostname:
            raise BrokerConfigError(
                f"POOLDESK_MQTT_PUBLIC_URL must be an mqtts:// or wss:// URL with a host, "
                f"not {url!r} (passwords must not cross a network in clear text)"
            )
    ca_file = env.get("POOLDESK_MQTT_PUBLIC_CA_FILE", "").strip()
    if not ca_file:
        return None
    try:
        return Path(ca_file).read_text()
    except OSError as error:
        raise BrokerConfigError(f"POOLDESK_MQTT_PUBLIC_CA_FILE cannot be read: {error}") from None


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a dual-stack socket
    return (mapped or ip).is_loopback


def build_backend(settings: Settings, env: Mapping[str, str] | None = None) -> BrokerBackend:
    """The configured broker back end (not started)."""
    env = dict(settings.broker_env if env is None else env)
    env.setdefault("MQTT_BROKER_URL", settings.mqtt_broker_url)
    env.setdefault("HIVEMQ_API_TOKEN", settings.hivemq_api_token)
    kind = broker_kind(settings, env)
    if kind == "managed":
        lan_host = env.get("POOLDESK_MQTT_LAN_HOST")
        lan = None
        if lan_host:
            lan = LanListener(
                hostname=lan_host,
                bind=env.get("POOLDESK_MQTT_LAN_BIND", "0.0.0.0"),  # noqa: S104 - LAN by request
                port=_port(env, "POOLDESK_MQTT_LAN_PORT") or 8883,
            )
        return ManagedMosquitto(
            settings.data_dir / "broker",
            port=_port(env, "POOLDESK_MQTT_PORT"),
            websocket_port=_port(env, "POOLDESK_MQTT_WS_PORT"),
            lan=lan,
            mosquitto_path=env.get("POOLDESK_MOSQUITTO_BIN") or None,
        )
    if kind == "mosquitto":
        from pooldesk_server.broker.mosquitto import ExternalMosquitto

        return ExternalMosquitto.from_env(env)
    if kind == "hivemq-cloud":
        from pooldesk_server.broker.hivemq import HiveMQCloud

        return HiveMQCloud.from_env(env)
    if kind == "http-auth":
        from pooldesk_server.broker.http_auth import EmqxKick, HttpAuthBroker, LoginFile

        secret = env.get("POOLDESK_HTTP_AUTH_SECRET", "")
        if not env.get("MQTT_BROKER_URL") or len(secret) < 32:
            raise BrokerConfigError(
                "the 'http-auth' broker back end needs MQTT_BROKER_URL and "
                "POOLDESK_HTTP_AUTH_SECRET (at least 32 characters)"
            )
        kick = None
        if env.get("POOLDESK_EMQX_API_URL"):
            if not env.get("POOLDESK_EMQX_API_KEY") or not env.get("POOLDESK_EMQX_API_SECRET"):
                raise BrokerConfigError(
                    "POOLDESK_EMQX_API_URL needs POOLDESK_EMQX_API_KEY and "
                    "POOLDESK_EMQX_API_SECRET (an EMQX API key allowed to disconnect clients)"
                )
            kick = EmqxKick(
                env["POOLDESK_EMQX_API_URL"],
                env["POOLDESK_EMQX_API_KEY"],
                env["POOLDESK_EMQX_API_SECRET"],
            )
        return HttpAuthBroker(
            broker_url=env["MQTT_BROKER_URL"],
            shared_secret=secret,
            store=LoginFile(settings.data_dir / "http-auth-logins.json"),
            kick=kick,
        )
    raise BrokerConfigError(
        f"POOLDESK_BROKER={kind!r} is not a broker back end: "
        "use managed, mosquitto, hivemq-cloud or http-auth"
    )


def broker_unavailable(error: BrokerError | str) -> ApiError:
    return ApiError(
        503,
        "broker_unavailable",
        f"The MQTT broker cannot issue credentials right now: {error}",
        {"Retry-After": str(RETRY_AFTER_S)},
    )


@dataclass(frozen=True)
class SyncReport:
    deleted_at_broker: tuple[str, ...]  # PoolDesk logins the database did not know
    forgotten: tuple[str, ...]  # rows whose login the broker lost and could not get back
    still_pending: int
    restored: tuple[str, ...] = ()  # logins the broker lost, put back with their old password

    def as_text(self) -> str:
        return (
            f"removed {len(self.deleted_at_broker)} login(s) from the broker, "
            f"restored {len(self.restored)} login(s) the broker had lost, "
            f"forgot {len(self.forgotten)} login(s) it had lost (re-issue them), "
            f"{self.still_pending} change(s) still pending"
        )


class BrokerExtension:
    name = "broker"

    def __init__(self, settings: Settings, backend: BrokerBackend | None = None) -> None:
        self.settings = settings
        self._backend = backend
        self._config_error: str | None = None
        if backend is None:
            try:
                self._backend = build_backend(settings)
            except BrokerConfigError as error:
                self._config_error = str(error)
        self._start_error: str | None = None
        self.recorder: Recorder | None = None
        self._ctx: AppContext | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._health_task: asyncio.Task[None] | None = None
        self._health: dict[str, dict[str, Any]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()  # cuts the reconcile loop's wait short
        self._jobs_due_now = False
        self._strays: set[str] = set()  # service logins that may be left at the broker
        self._locks = KeyedLocks()
        self.max_sessions = MAX_SESSIONS_PER_USER
        self._public_ca: str | None = None
        try:
            self.max_sessions = _positive(
                settings.broker_env, "POOLDESK_MQTT_MAX_SESSIONS_PER_USER", MAX_SESSIONS_PER_USER
            )
            self._public_ca = _public_broker(settings.broker_env)
        except BrokerConfigError as error:
            self._config_error = self._config_error or str(error)
        self.routes: list[BaseRoute] = [
            route("/api/auth/mqtt-credentials", {"GET": self.session_credentials}),
            route("/api/devices/{device_id}/credentials", {"POST": self.device_credentials}),
        ]
        self.openapi: dict[tuple[str, str], Operation] = {
            ("/api/auth/mqtt-credentials", "GET"): Operation(
                "MQTT login of this session (asking again rotates its password)",
                api.MqttCredentials,
                errors=(503,),
                security=BEARER,
            ),
            ("/api/devices/{device_id}/credentials", "POST"): Operation(
                "Issue (or rotate) the device's MQTT login and API key (the owner, or an "
                "installer during their set-up grant)",
                api.DeviceCredentials,
                errors=(403, 404, 503),
                security=BEARER,
            ),
        }
        if self._backend is not None and self._backend.name == "http-auth":
            from pooldesk_server.broker.http_auth import HttpAuthBroker, http_auth_routes

            assert isinstance(self._backend, HttpAuthBroker)
            for auth_route in http_auth_routes(self._backend):
                self.routes.append(auth_route)
                for method in auth_route.methods or ():
                    if method != "HEAD":
                        self.openapi[(auth_route.path, method)] = Operation(
                            "Broker asks: authentication / authorization (shared secret)", None
                        )

    @property
    def config_error(self) -> str | None:
        """Why the configured broker back end could not be built (bad settings), if so."""
        return self._config_error

    @property
    def backend(self) -> BrokerBackend:
        if self._backend is None:
            raise broker_unavailable(self._config_error or "no broker configured")
        return self._backend

    # ---- lifespan ----------------------------------------------------------------------------

    async def start(self, ctx: AppContext) -> None:
        self._ctx = ctx
        if self._config_error:
            log.error("MQTT broker not configured: %s", self._config_error)
        elif self._backend is not None:
            await self._start_backend()
        ctx.events.subscribe(self.on_account_event)
        self._loop_task = asyncio.create_task(self._reconcile_forever(), name="broker-reconcile")
        await self.check_health()
        self._health_task = asyncio.create_task(self._check_health_forever(), name="broker-health")

    # ---- health (served by /healthz from a cache, so a probe costs nothing) ----------------

    def health_report(self) -> dict[str, dict[str, Any]]:
        """Components and their state: `{"broker": {"ok": bool, "detail": str}, ...}`.

        The broker's and the disk's states are those of the last check (every
        `HEALTH_EVERY_S`); the recorder's is live (connected and subscribed)."""
        report = dict(self._health)
        if self._recorder_wanted():
            if self.recorder is None:
                report["recorder"] = {"ok": False, "detail": "not started"}
            elif self.recorder.connected:
                report["recorder"] = {"ok": True, "detail": "subscribed"}
            else:
                report["recorder"] = {"ok": False, "detail": "not connected to the broker"}
        return report

    async def check_health(self) -> None:
        health: dict[str, dict[str, Any]] = {}
        if self._backend is None or self._config_error:
            health["broker"] = {"ok": False, "detail": self._config_error or "not configured"}
        elif self._start_error:
            health["broker"] = {"ok": False, "detail": self._start_error}
        else:
            try:
                state = await asyncio.wait_for(self._backend.health(), HEALTH_TIMEOUT_S)
                health["broker"] = {"ok": state.ok, "detail": state.detail}
            except (TimeoutError, BrokerError) as error:
                health["broker"] = {"ok": False, "detail": str(error) or "no answer in time"}
        try:
            free = (await asyncio.to_thread(shutil.disk_usage, self.settings.data_dir)).free
        except OSError as error:
            health["disk"] = {"ok": False, "detail": str(error)}
        else:
            low = free < MIN_FREE_BYTES
            health["disk"] = {
                "ok": not low,
                "detail": f"{free // 2**20} MiB free" + (" (too little)" if low else ""),
            }
        was_ok = self._health.get("broker", {}).get("ok", True)
        self._health = health
        if health["broker"]["ok"] and not was_ok:  # back: retry what is owed now, not later
            log.info("MQTT broker answers again; retrying pending broker work")
            self._jobs_due_now = True
            self._wake.set()

    async def _check_health_forever(self) -> None:
        while True:
            await asyncio.sleep(HEALTH_EVERY_S)
            try:
                await self.check_health()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("health check failed")

    def _recorder_wanted(self) -> bool:
        return (
            self._backend is not None
            and self.settings.broker_env.get("POOLDESK_RECORDER", "1") != "0"
            and urlsplit(self._backend.broker_url).scheme == "mqtt"
        )

    async def _start_backend(self) -> bool:
        assert self._backend is not None
        try:
            await self._backend.start()
        except BrokerError as error:
            if self._start_error != str(error):
                log.error("MQTT broker (%s) not started: %s", self._backend.name, error)
            self._start_error = str(error)
            return False
        if self._start_error:
            log.info("MQTT broker (%s) started after all", self._backend.name)
        self._start_error = None
        log.info("MQTT broker (%s) at %s", self._backend.name, self._backend.broker_url)
        if isinstance(self._backend, ManagedMosquitto):
            self._backend.on_respawn = self.after_broker_restart
            await self.after_broker_restart()
        await self._start_recorder()
        return True

    async def after_broker_restart(self) -> None:
        """The managed broker (re)started: every device was cut, and Mosquitto sent none of their
        wills; the retained `status` it restored may be `online` for a device that is gone, and
        messages it redelivers (acknowledged after its last save) may say `online` too. So every
        device is `offline` until it says otherwise: in the database, and as a retained
        `offline` published now — after anything the broker restored, so the recorder applies it
        after any redelivered message, and before devices reconnect (their firmware waits at
        least 1 s before reconnecting) and announce `online` again."""
        ctx = self._ctx
        if ctx is None or self._backend is None:
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
                self._backend,
                {f"{prefix}/status": b"offline" for prefix in prefixes},
                rights=(AclRule("publishClientSend", "users/+/devices/+/status"),),
                strays=self._strays,
            )
        except BrokerError as error:
            log.warning("device status not republished after the broker restart: %s", error)
        else:
            log.info(
                "broker (re)started: %d device(s) marked offline until heard from", len(prefixes)
            )

    async def _start_recorder(self) -> None:
        """Record device traffic in-process (unless POOLDESK_RECORDER=0)."""
        if self.recorder is not None or self._ctx is None or self._backend is None:
            return
        if self.settings.broker_env.get("POOLDESK_RECORDER", "1") == "0":
            return
        url = urlsplit(self._backend.broker_url)
        if url.scheme != "mqtt" or not url.hostname or not url.port:
            log.warning("recorder not started: it needs a plain mqtt:// broker URL on this host")
            return
        from pooldesk_server.recorder.recorder import Recorder

        login = recorder_login(self.settings.broker_env.get("POOLDESK_RECORDER_INSTANCE", "main"))
        try:
            await self._backend.put_login(login)
            backend = self._backend

            async def put_back() -> None:
                await backend.put_login(login)

            recorder = Recorder(self._ctx.db, url.hostname, url.port, login, on_refused=put_back)
            await recorder.start()
        except (BrokerError, TimeoutError) as error:
            log.error("recorder not started: %s", error)
            return
        self.recorder = recorder

    async def stop(self) -> None:
        if self._ctx is not None:
            with contextlib.suppress(ValueError):
                self._ctx.events.unsubscribe(self.on_account_event)
        for task in (self._loop_task, self._health_task, *self._background):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.recorder is not None:
            await self.recorder.stop()
            self.recorder = None
        if self._backend is not None:
            await self._backend.stop()

    def _ready_backend(self) -> BrokerBackend:
        backend = self.backend
        if self._start_error:
            raise broker_unavailable(self._start_error)
        return backend

    # ---- HTTP --------------------------------------------------------------------------------

    def dashboard_broker(self, request: Request) -> tuple[str, str | None]:
        """(URL, CA PEM or None) a dashboard can reach from where its request came from.

        `POOLDESK_MQTT_PUBLIC_URL` (e.g. `wss://pool.example/mqtt` through a reverse proxy) wins;
        a back end other than the managed one has one URL for everybody (`MQTT_BROKER_URL`); the
        managed broker's loopback listener is only for an app on this machine, others get the
        TLS LAN listener with its private CA. Without one, a 503 says what the operator must set.
        """
        backend = self._ready_backend()
        public = self.settings.broker_env.get("POOLDESK_MQTT_PUBLIC_URL", "").strip()
        lan_url = getattr(backend, "lan_url", None)
        if public:
            if self._public_ca is not None:
                return public, self._public_ca
            return public, backend.ca_cert_pem if public == lan_url else None
        if not isinstance(backend, ManagedMosquitto):
            return backend.broker_url, backend.ca_cert_pem
        if _is_loopback(client_address(request)):
            return backend.broker_url, None
        if lan_url:
            return lan_url, backend.ca_cert_pem
        raise ApiError(
            503,
            "broker_unavailable",
            "The MQTT broker only listens on the server's own loopback address, which this "
            "computer cannot reach: the server's operator must set POOLDESK_MQTT_LAN_HOST (a TLS "
            "listener for the home network) or POOLDESK_MQTT_PUBLIC_URL (see docs/mqtt.md)",
        )

    async def session_credentials(self, request: Request) -> Response:
        auth = await require_user(request)
        broker_url, ca_pem = self.dashboard_broker(request)  # before anything is issued
        login = dashboard_login(auth.user.username, auth.session_id, generation=new_generation())
        await self._issue(
            request,
            login,
            kind="session",
            user_id=auth.user.id,
            session_id=auth.session_id,
            device_pk=None,
        )
        return answer(
            api.MqttCredentials(
                mqtt_user=login.username,
                mqtt_password=login.password,
                client_id=login.client_id,
                topic_prefix=user_prefix(auth.user.username),
                broker_url=broker_url,
                ca_cert=ca_pem,
            )
        )

    async def device_credentials(self, request: Request) -> Response:
        ctx = context_of(request)
        device_id = normalize_device_id(request.path_params["device_id"])
        if device_id is None:
            raise not_found("No such device: device ids look like ESP-XXXXXX")
        async with ctx.db.read() as db:
            auth = await require_user(request, db)
            # The owner, or an installer during their set-up grant (docs/sharing.md): the login
            # is the owner's device login either way.
            found = await sharing.access(db, auth.user.id, device_id, ("owner", "installer"))
            device = found.device
        backend = self._ready_backend()
        login = device_login(found.owner, device.device_id, generation=new_generation())
        api_key = await self._issue(
            request,
            login,
            kind="device",
            user_id=device.user_id,
            session_id=None,
            device_pk=device.id,
            device=device,
        )
        lan_url = getattr(backend, "lan_url", None)
        return answer(
            api.DeviceCredentials(
                mqtt_user=login.username,
                mqtt_password=login.password,
                client_id=login.client_id,
                topic_prefix=device.topic_prefix,
                broker_url=lan_url or backend.broker_url,
                ca_cert=backend.ca_cert_pem,
                api_key=api_key,
            )
        )

    async def _issue(
        self,
        request: Request,
        login: BrokerLogin,
        *,
        kind: str,
        user_id: str,
        session_id: str | None,
        device_pk: str | None,
        device: Any = None,
    ) -> str | None:
        """Record, put at the broker, confirm, then retire the login(s) it replaces. Returns the
        device's new API key if a device.

        Every issue makes a login under a new name (same client id), so a failure before the
        confirmation (broker paused or down, timeout) leaves the working login untouched: only
        the new row turns `pending_delete`, and the reconcile loop removes a login nobody was
        given. The confirmation requires the session (or device) to be alive at that moment, so
        a logout racing the issue never leaves a working login behind."""
        ctx = context_of(request)
        backend = self._ready_backend()
        async with self._locks.hold(login.username):
            try:
                password_hash = await self._insert_pending_put(
                    ctx, login, kind, user_id=user_id, session_id=session_id, device_pk=device_pk
                )
            except IntegrityError:
                raise not_found("This device or session no longer exists") from None
            if kind == "session":
                # Read after the row exists and under its lock: a share change committed from
                # now on finds this login and re-puts it after us (`refresh_dashboard_rights`).
                async with ctx.db.read() as db:
                    login = replace(login, rights=await self._dashboard_rights(db, user_id))
            try:
                if isinstance(backend, ManagedMosquitto) and backend.rights_change_in_place:
                    # The row's own hash: a later change of rights re-puts the same one, which
                    # the plugin does not take for a new password (no needless disconnection).
                    await backend.put_login(
                        HashedLogin(login.username, login.client_id, login.rights, password_hash)
                    )
                else:
                    await backend.put_login(login)
            except BrokerError as error:
                await self._set_state(ctx, login.username, "pending_delete")
                log.warning(
                    "issuing %s failed (the login it would replace is kept): %s",
                    login.username,
                    error,
                )
                raise broker_unavailable(error) from None
            api_key = None
            replaced: tuple[str, ...] = ()
            async with ctx.db.write() as db:
                owner_alive = (
                    _session_alive(utcnow())
                    if kind == "session"
                    else MqttLogin.device_id.is_not(None)
                )
                confirmed = await db.execute(
                    update(MqttLogin)
                    .where(MqttLogin.mqtt_user == login.username)
                    .where(MqttLogin.broker_state == "pending_put")
                    .where(owner_alive)
                    .values(broker_state="synced")
                    .execution_options(synchronize_session=False)
                )
                if rows_changed(confirmed) == 1:
                    if kind == "session":  # the user's oldest app logins beyond the cap go
                        replaced += await self._over_session_cap(db, user_id)
                    same_owner = (
                        MqttLogin.session_id == session_id
                        if kind == "session"
                        else MqttLogin.device_id == device_pk
                    )
                    replaced += await mark_mqtt_logins_pending_delete(
                        db,
                        same_owner,
                        MqttLogin.kind == kind,
                        MqttLogin.mqtt_user != login.username,
                        MqttLogin.broker_state == "synced",
                    )
                    if device is not None:
                        api_key = await issue_api_key(db, device)
                    record(
                        db,
                        event="credential_issue",
                        outcome="success",
                        user_id=user_id,
                        client_address=client_address(request),
                        kind=kind,
                        mqttUser=login.username,
                    )
            if rows_changed(confirmed) != 1:
                # The session or device ended while we were issuing: undo at the broker.
                await self._set_state(ctx, login.username, "pending_delete")
                await self._delete_locked(ctx, login.username)
        if rows_changed(confirmed) != 1:
            if device is not None:
                raise not_found("This device was removed from your account meanwhile")
            # The session's earlier logins go too, even if no event announced its end.
            async with ctx.db.read() as db:
                earlier = list(
                    await db.scalars(
                        select(MqttLogin.mqtt_user)
                        .where(MqttLogin.session_id == session_id)
                        .where(_stale_session_login(utcnow()))
                    )
                )
            for name in earlier:
                await self._end_stale_session_login(ctx, name)
            raise unauthorized("This session has ended; sign in again")
        for name in replaced:  # the rotation is confirmed: the old password stops working now
            await self._delete_now(ctx, name)
        return api_key

    async def _dashboard_rights(self, db: Any, user_id: str) -> Rights:
        """A dashboard login's rights: the user's own prefix and their active shares."""
        username = await db.scalar(select(User.username).where(User.id == user_id))
        return dashboard_rights(username, tuple(await active_grants(db, user_id)))

    async def refresh_dashboard_rights(self, usernames: Sequence[str]) -> None:
        """Give the dashboard logins of these accounts the rights their shares give now
        (docs/sharing.md): call it after committing a change of shares (a `RightsChanged`
        event does). Each login keeps its password; a login that lost a right has its live
        connections cut at once. Where the broker cannot change rights without the password
        (no login plugin), or does not answer, the logins are ended instead (pending deletion,
        the reconcile loop finishes it): the apps fetch new credentials with the new rights."""
        ctx = self._ctx
        if ctx is None or not usernames:
            return
        async with ctx.db.read() as db:
            rows = (
                await db.execute(
                    select(MqttLogin.mqtt_user, MqttLogin.client_id, MqttLogin.user_id)
                    .join(User, User.id == MqttLogin.user_id)
                    .where(User.username.in_(list(usernames)), MqttLogin.kind == "session")
                    .where(MqttLogin.broker_state.in_(("synced", "pending_put")))
                    .order_by(MqttLogin.mqtt_user)
                )
            ).all()
        backend = self._backend
        in_place = isinstance(backend, ManagedMosquitto) and backend.rights_change_in_place
        for mqtt_user, _client_id, user_id in rows:
            if user_id is None:
                continue  # the account is gone: its logins are being deleted
            async with self._locks.hold(mqtt_user):
                async with ctx.db.read() as db:
                    rights = await self._dashboard_rights(db, user_id)
                    row = (
                        await db.execute(
                            select(MqttLogin.client_id, MqttLogin.password_hash).where(
                                MqttLogin.mqtt_user == mqtt_user,
                                MqttLogin.broker_state.in_(("synced", "pending_put")),
                            )
                        )
                    ).first()
                if row is None:
                    continue  # ended meanwhile
                if in_place and row.password_hash:
                    assert isinstance(backend, ManagedMosquitto)
                    try:
                        await backend.put_login(
                            HashedLogin(mqtt_user, row.client_id, rights, row.password_hash)
                        )
                        continue
                    except BrokerError as error:
                        log.warning("rights of %s not changed in place: %s", mqtt_user, error)
                await self._set_state(ctx, mqtt_user, "pending_delete")
                await self._delete_locked(ctx, mqtt_user)

    async def _over_session_cap(self, db: Any, user_id: str) -> tuple[str, ...]:
        """Mark the user's least recently issued app logins `pending_delete` so that at most
        `max_sessions` stay (one per signed-in app; an app whose login went fetches a new one
        when the broker refuses it, which then retires the next oldest)."""
        names = list(
            await db.scalars(
                select(MqttLogin.mqtt_user)
                .where(MqttLogin.user_id == user_id, MqttLogin.kind == "session")
                .where(MqttLogin.broker_state == "synced")
                .order_by(MqttLogin.created_at.desc(), MqttLogin.mqtt_user.desc())
                .offset(self.max_sessions)
            )
        )
        if not names:
            return ()
        log.info("user has over %d app logins: retiring %d", self.max_sessions, len(names))
        return await mark_mqtt_logins_pending_delete(db, MqttLogin.mqtt_user.in_(names))

    async def _insert_pending_put(
        self,
        ctx: AppContext,
        login: BrokerLogin,
        kind: str,
        *,
        user_id: str,
        session_id: str | None,
        device_pk: str | None,
    ) -> str:
        """Write the `pending_put` row; returns the password's hash it keeps."""
        password_hash = await asyncio.to_thread(dynsec_password_hash, login.password)
        async with ctx.db.write() as db:
            db.add(
                MqttLogin(
                    id=str(uuid.uuid4()),
                    user_id=user_id,
                    session_id=session_id,
                    device_id=device_pk,
                    mqtt_user=login.username,
                    client_id=login.client_id,
                    kind=kind,
                    created_at=utcnow(),
                    broker_state="pending_put",
                    password_hash=password_hash,
                )
            )
        return password_hash

    async def _set_state(self, ctx: AppContext, mqtt_user: str, state: str) -> None:
        async with ctx.db.write() as db:
            await db.execute(
                update(MqttLogin).where(MqttLogin.mqtt_user == mqtt_user).values(broker_state=state)
            )

    # ---- deletion and reconciliation -----------------------------------------------------------

    async def on_account_event(self, event: AccountEvent) -> None:
        """Sessions, devices or the account ended: their logins go (their rows are already
        `pending_delete`), and the retained messages under a removed device's (or account's)
        topics are cleared (a `broker_jobs` row is written first).

        The request that published the event waits for that work at most `INLINE_BUDGET_S`:
        with a healthy broker it is done before the answer (revocation at once); with a broker
        that is paused or down the answer goes out anyway and the work goes on in the
        background, then in the reconcile loop, until it succeeds."""
        ctx = self._ctx
        if ctx is None:
            return
        if isinstance(event, RightsChanged):
            work = asyncio.create_task(
                self._run_rights_jobs(ctx, event.usernames), name="broker-rights-refresh"
            )
        else:
            if self.recorder is not None:
                self.recorder.forget_devices()
            prefix = retained_prefix_of(event)
            job_id = await self._add_job(ctx, "clear_retained", prefix) if prefix else None
            work = asyncio.create_task(
                self._event_work(ctx, tuple(getattr(event, "mqtt_users", ())), job_id),
                name="broker-event-work",
            )
        self._background.add(work)
        work.add_done_callback(self._background.discard)
        try:
            await asyncio.wait_for(asyncio.shield(work), INLINE_BUDGET_S)
        except TimeoutError:
            log.warning("the broker is slow to answer: finishing the revocation in the background")

    async def _run_rights_jobs(self, ctx: AppContext, usernames: tuple[str, ...]) -> None:
        """Run the `refresh_rights` jobs the change wrote with its commit (docs/sharing.md);
        what fails stays for the reconcile loop."""
        try:
            async with ctx.db.read() as db:
                job_ids = list(
                    await db.scalars(
                        select(BrokerJob.id).where(
                            BrokerJob.kind == REFRESH_RIGHTS, BrokerJob.target.in_(usernames)
                        )
                    )
                )
            for job_id in job_ids:
                await self._run_job(ctx, job_id)
        except Exception:  # the reconcile loop takes over
            log.exception("changing the rights of %d account(s) failed", len(usernames))

    async def _event_work(
        self, ctx: AppContext, mqtt_users: tuple[str, ...], job_id: str | None
    ) -> None:
        try:
            for mqtt_user in mqtt_users:
                await self._delete_now(ctx, mqtt_user)
            if job_id is not None:
                await self._run_job(ctx, job_id)
        except Exception:  # the reconcile loop takes over
            log.exception("broker work after an account event failed; retrying later")

    # ---- broker jobs (persisted, retried) -------------------------------------------------

    async def _add_job(self, ctx: AppContext, kind: str, target: str) -> str:
        job = BrokerJob.due_now(kind, target)
        async with ctx.db.write() as db:
            db.add(job)
        return job.id

    async def _run_job(self, ctx: AppContext, job_id: str) -> bool:
        """Try one job under its lock; True when it is done (or was done meanwhile)."""
        async with self._locks.hold(f"job:{job_id}"):
            async with ctx.db.read() as db:
                job = await db.get(BrokerJob, job_id)
            if job is None:
                return True
            try:
                if job.kind == REFRESH_RIGHTS:
                    await self.refresh_dashboard_rights([job.target])
                    cleared = []
                elif job.kind == "clear_retained":
                    backend = self._ready_backend()
                    cleared = await clear_retained(backend, job.target, self._strays)
                else:
                    raise BrokerRejected(f"unknown broker job kind {job.kind!r}")
            except (BrokerError, ApiError) as error:
                delay = min(JOB_RETRY_MAX_S, RECONCILE_EVERY_S * 2 ** min(job.attempts, 10))
                async with ctx.db.write() as db:
                    await db.execute(
                        update(BrokerJob)
                        .where(BrokerJob.id == job_id)
                        .values(
                            attempts=BrokerJob.attempts + 1,
                            next_attempt_at=utcnow() + timedelta(seconds=delay),
                            last_error=str(error)[:500],
                        )
                    )
                log.warning("retained messages under %s not cleared yet: %s", job.target, error)
                return False
            async with ctx.db.write() as db:
                await db.execute(delete(BrokerJob).where(BrokerJob.id == job_id))
            if job.kind != REFRESH_RIGHTS:
                log.info("cleared %d retained message(s) under %s", len(cleared), job.target)
            return True

    async def _run_due_jobs(self, ctx: AppContext) -> int:
        """Run the jobs whose time has come; returns how many are still owed."""
        all_due, self._jobs_due_now = self._jobs_due_now, False
        async with ctx.db.read() as db:
            query = select(BrokerJob.id).order_by(BrokerJob.created_at)
            if not all_due:
                query = query.where(BrokerJob.next_attempt_at <= utcnow())
            due = list(await db.scalars(query))
        left = 0
        for job_id in due:
            if not await self._run_job(ctx, job_id):
                left += 1
        return left

    async def _remove_stray_service_logins(self) -> None:
        """Delete `svc-` logins whose put or delete timed out: a paused broker may have applied
        the put after all, and nobody would ever delete them."""
        if not self._strays or self._backend is None or self._start_error:
            return
        try:
            await remove_stray_logins(self._backend, self._strays)
        except BrokerError as error:
            log.warning("%d stray service login(s) not removed yet: %s", len(self._strays), error)

    async def _delete_now(self, ctx: AppContext, mqtt_user: str) -> bool:
        """Delete at the broker, then the row, if the row still says `pending_delete`. False
        (row stays pending_delete) if the broker could not be reached."""
        async with self._locks.hold(mqtt_user):
            return await self._delete_locked(ctx, mqtt_user)

    async def _delete_locked(self, ctx: AppContext, mqtt_user: str) -> bool:
        """`_delete_now` for a caller already holding the login's lock."""
        async with ctx.db.read() as db:
            row = (
                await db.execute(
                    select(MqttLogin.broker_state, MqttLogin.kind, MqttLogin.device_id).where(
                        MqttLogin.mqtt_user == mqtt_user
                    )
                )
            ).first()
        if row is None or row.broker_state != "pending_delete":  # gone, or not to be deleted
            return True
        try:
            await self._ready_backend().delete_login(mqtt_user)
        except (BrokerError, ApiError) as error:
            log.warning("MQTT login %s stays pending deletion: %s", mqtt_user, error)
            return False
        async with ctx.db.write() as db:
            await db.execute(
                delete(MqttLogin)
                .where(MqttLogin.mqtt_user == mqtt_user)
                .where(MqttLogin.broker_state == "pending_delete")
            )
        if row.kind == "device" and row.device_id is not None:
            await self._device_cut_off(ctx, row.device_id)
        return True

    async def _device_cut_off(self, ctx: AppContext, device_pk: str) -> None:
        """A device's login was deleted, which cut its connection without its will (Mosquitto
        sends no will for a deleted client): say `offline` for it, in the database and as its
        retained `status` — unless the device has been heard from since its newest login was
        issued (it is connected with that one)."""
        async with ctx.db.write() as db:
            newest = await db.scalar(
                select(func.max(MqttLogin.created_at)).where(
                    MqttLogin.device_id == device_pk, MqttLogin.broker_state == "synced"
                )
            )
            quiet = or_(Device.last_seen.is_(None), Device.last_seen <= newest)
            changed = await db.execute(
                update(Device)
                .where(Device.id == device_pk, Device.status != "offline")
                .where(quiet if newest is not None else Device.id.is_not(None))
                .values(status="offline")
                .returning(Device.topic_prefix)
            )
            prefixes = list(changed.scalars())
        backend = self._backend
        if not prefixes or backend is None or self._start_error or backend.name == "hivemq-cloud":
            return  # (a new HiveMQ Cloud login takes up to a minute to work: no use there)

        async def say_offline() -> None:
            try:
                await publish_retained(
                    backend, {f"{prefixes[0]}/status": b"offline"}, strays=self._strays
                )
            except BrokerError as error:
                log.warning("could not publish offline for %s: %s", prefixes[0], error)

        task = asyncio.create_task(say_offline(), name="broker-device-offline")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _end_stale_session_login(self, ctx: AppContext, mqtt_user: str) -> bool:
        """Under the lock: mark a session login whose session is gone, revoked or expired
        `pending_delete` (a `pending_put` one under the lock is a crashed issue), then delete it."""
        async with self._locks.hold(mqtt_user):
            async with ctx.db.write() as db:
                await db.execute(
                    update(MqttLogin)
                    .where(MqttLogin.mqtt_user == mqtt_user)
                    .where(_stale_session_login(utcnow()))
                    .values(broker_state="pending_delete")
                    .execution_options(synchronize_session=False)
                )
            return await self._delete_locked(ctx, mqtt_user)

    async def reconcile_once(self, abandoned_after_s: float = ABANDONED_PUT_S) -> int:
        """Finish pending deletions, remove logins of ended sessions, logins an issue abandoned
        (`pending_put` older than `abandoned_after_s`: a backend killed while issuing; their
        password was never handed out) and logins replaced by a newer one of the same owner;
        returns how many deletions are still pending."""
        ctx = self._ctx
        assert ctx is not None
        if self._backend is not None and self._start_error:
            await self._start_backend()
        elif self._loop_task is not None and self.recorder is None and self._recorder_wanted():
            await self._start_recorder()  # it failed to start earlier (logged): try again
        await self._retire_abandoned_and_replaced(ctx, abandoned_after_s)
        jobs_left = await self._run_due_jobs(ctx)
        await self._remove_stray_service_logins()
        async with ctx.db.read() as db:
            pending = list(
                await db.scalars(
                    select(MqttLogin.mqtt_user).where(MqttLogin.broker_state == "pending_delete")
                )
            )
            stale = list(
                await db.scalars(select(MqttLogin.mqtt_user).where(_stale_session_login(utcnow())))
            )
        left = 0
        for mqtt_user in pending:
            if not await self._delete_now(ctx, mqtt_user):
                left += 1
        for mqtt_user in stale:
            if not await self._end_stale_session_login(ctx, mqtt_user):
                left += 1
        if left:
            log.warning("%d MQTT login deletion(s) still pending; retrying", left)
        return left + jobs_left

    async def _retire_abandoned_and_replaced(
        self, ctx: AppContext, abandoned_after_s: float
    ) -> None:
        cutoff = utcnow() - timedelta(seconds=abandoned_after_s)
        async with ctx.db.write() as db:
            abandoned = await mark_mqtt_logins_pending_delete(
                db, MqttLogin.broker_state == "pending_put", MqttLogin.created_at <= cutoff
            )
            rows = (
                await db.execute(
                    select(
                        MqttLogin.mqtt_user,
                        MqttLogin.kind,
                        MqttLogin.session_id,
                        MqttLogin.device_id,
                        MqttLogin.created_at,
                    ).where(MqttLogin.broker_state == "synced")
                )
            ).all()
            newest: dict[tuple[str, str | None], tuple[Any, str]] = {}
            older: list[str] = []
            for name, kind, session_id, device_pk, created_at in rows:
                owner = (kind, session_id if kind == "session" else device_pk)
                if owner[1] is None:
                    continue
                best = newest.get(owner)
                if best is None or (created_at, name) > best:
                    if best is not None:
                        older.append(best[1])
                    newest[owner] = (created_at, name)
                else:
                    older.append(name)
            replaced = (
                await mark_mqtt_logins_pending_delete(db, MqttLogin.mqtt_user.in_(older))
                if older
                else ()
            )
        if abandoned or replaced:
            log.info(
                "retiring %d abandoned and %d replaced MQTT login(s)", len(abandoned), len(replaced)
            )

    async def _reconcile_forever(self) -> None:
        while True:
            try:
                await self.reconcile_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not end the loop
                log.exception("broker reconciliation failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), RECONCILE_EVERY_S)
            self._wake.clear()

    async def sync(self) -> SyncReport:
        """Make the broker hold exactly the PoolDesk logins the database knows (`broker sync`).

        PoolDesk logins (named `app-`, `dev-`, `svc-`) the database does not know are removed
        from the broker; other logins of a shared broker are never touched. Logins the broker
        lost (its store was lost) are put back with their old password on the managed broker,
        from the hash in the row; elsewhere, or without a hash, the row is deleted so apps ask
        for new credentials and devices need theirs issued again.
        """
        ctx = self._ctx
        assert ctx is not None
        backend = self._ready_backend()
        await self.reconcile_once(abandoned_after_s=0)  # the server is stopped: nothing in flight
        at_broker = await backend.list_logins()
        async with ctx.db.read() as db:
            rows = {
                name: state
                for name, state in (
                    await db.execute(select(MqttLogin.mqtt_user, MqttLogin.broker_state))
                ).all()
            }
        unknown = sorted(
            name
            for name in at_broker - set(rows)
            if name.startswith(POOLDESK_LOGIN_PREFIXES)
            and not name.startswith(SERVICE_LOGIN_PREFIXES)
        )
        for name in unknown:
            async with self._locks.hold(name):
                await backend.delete_login(name)
        if self.recorder is not None:  # the backend's own login, if the store lost it
            await backend.put_login(self.recorder.login)
        lost = sorted(n for n, state in rows.items() if state == "synced" and n not in at_broker)
        restored: list[str] = []
        if lost and isinstance(backend, ManagedMosquitto):
            hashed = await self._hashed_logins(ctx, lost)
            if hashed:
                await backend.import_logins(hashed)
                restored = sorted(h.username for h in hashed)
        forgotten = [n for n in lost if n not in restored]
        if forgotten:
            async with ctx.db.write() as db:
                await db.execute(
                    delete(MqttLogin)
                    .where(MqttLogin.mqtt_user.in_(forgotten))
                    .where(MqttLogin.broker_state == "synced")
                )
        return SyncReport(
            tuple(unknown), tuple(forgotten), await self.reconcile_once(), tuple(restored)
        )

    async def _hashed_logins(self, ctx: AppContext, names: list[str]) -> list[HashedLogin]:
        """The logins of these rows as the broker needs them, from their stored hashes."""
        async with ctx.db.read() as db:
            rows = (
                await db.execute(
                    select(
                        MqttLogin.mqtt_user,
                        MqttLogin.client_id,
                        MqttLogin.kind,
                        MqttLogin.password_hash,
                        User.username,
                        Device.device_id,
                        MqttLogin.user_id,
                    )
                    .join(User, User.id == MqttLogin.user_id)
                    .outerjoin(Device, Device.id == MqttLogin.device_id)
                    .where(MqttLogin.mqtt_user.in_(names))
                    .where(MqttLogin.password_hash.is_not(None))
                )
            ).all()
        logins = []
        for mqtt_user, client_id, kind, password_hash, username, device_id, user_id in rows:
            if password_hash is None:  # not selected: the query asks for a hash
                continue
            if kind in ("device", "transfer") and device_id is not None:
                rights = device_rights(username, device_id)
            elif kind == "session" and user_id is not None:
                async with ctx.db.read() as db:
                    rights = await self._dashboard_rights(db, user_id)
            else:
                continue
            logins.append(HashedLogin(mqtt_user, client_id, rights, password_hash))
        return logins


def _session_alive(now: Any) -> Any:
    """SQL: the row's session exists, is not revoked and has not expired."""
    return exists().where(
        UserSession.id == MqttLogin.session_id,
        UserSession.revoked_at.is_(None),
        UserSession.expires_at > now,
    )


def _stale_session_login(now: Any) -> Any:
    """SQL: a session login (synced, or a `pending_put` a crashed issue left) whose session is
    gone, revoked or expired."""
    return and_(
        MqttLogin.kind == "session",
        MqttLogin.broker_state.in_(("synced", "pending_put")),
        or_(MqttLogin.session_id.is_(None), not_(_session_alive(now))),
    )


def create_extension(settings: Settings) -> BrokerExtension:
    return BrokerExtension(settings)


async def run_sync(settings: Settings) -> SyncReport:
    """`pooldesk-backend broker sync`: rebuild the broker's logins from the database.

    With the managed broker the server must be stopped first (it owns the broker process).
    """
    from pooldesk_server.db.migrate import upgrade_to_head

    extension = BrokerExtension(settings)
    if extension._config_error:
        raise BrokerConfigError(extension._config_error)
    backend = extension.backend
    if isinstance(backend, ManagedMosquitto) and backend.running_elsewhere():
        raise BrokerConfigError(
            "the managed broker is running under `pooldesk-backend serve`; stop the server "
            "first (it reconciles pending changes by itself every 30 s)"
        )
    ctx = AppContext.build(settings)
    try:
        await upgrade_to_head(ctx.db)
        await backend.start()
        extension._ctx = ctx
        return await extension.sync()
    finally:
        await backend.stop()
        await ctx.db.dispose()
