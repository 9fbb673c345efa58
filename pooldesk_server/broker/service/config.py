"""Which broker back end runs, from the settings and the environment, and the layer's limits."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from pooldesk_server.broker.base import BrokerBackend
from pooldesk_server.broker.managed import LanListener, ManagedMosquitto
from pooldesk_server.broker.mosquitto import BrokerConfigError
from pooldesk_server.settings import Settings

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


def positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise BrokerConfigError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def public_broker_ca(env: Mapping[str, str]) -> str | None:
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
        if settings.workers > 1:
            raise BrokerConfigError(
                "the 'http-auth' broker back end keeps its logins in the memory of one process: "
                "serve it with one worker (POOLDESK_WORKERS=1, --workers 1), or use the managed "
                "broker, an external Mosquitto or HiveMQ Cloud with several"
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
