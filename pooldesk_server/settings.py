"""Backend settings, read once from the environment and an optional `.env` file.

The process environment wins over `.env`. Names follow the original design (`JWT_SECRET`,
`MQTT_BROKER_URL`, `HIVEMQ_API_TOKEN`) plus `DATABASE_URL` and the `POOLDESK_*` knobs listed in
docs/backend.md.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import os
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypedDict

import platformdirs
from dotenv import dotenv_values

log = logging.getLogger("pooldesk_server.settings")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MISSING_SECRET_MESSAGE = "JWT_SECRET not configured in environment"  # noqa: S105
MIN_PRODUCTION_SECRET_LENGTH = 32
MIN_SECRET_BITS = 72
MIN_SECRET_DISTINCT = 6


class ConfigError(Exception):
    """A setting is missing or wrong; the message tells the operator what to do."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    jwt_secret: str
    jwt_secret_is_ephemeral: bool = False
    environment: str = "development"
    mqtt_broker_url: str = ""
    hivemq_api_token: str = ""
    require_device_manifest: bool = False
    auto_migrate: bool = True
    jwt_issuer: str = "pooldesk-backend"
    jwt_audience: str = "pooldesk"
    access_token_seconds: int = 3600
    refresh_token_seconds: int = 30 * 24 * 3600
    argon2_memory_kib: int = 19 * 1024
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1
    max_body_bytes: int = 64 * 1024
    login_free_attempts_account: int = 50
    login_free_attempts_address: int = 20
    login_lockout_base_seconds: int = 1
    login_lockout_max_seconds: int = 900
    login_failure_window_seconds: int = 900
    # Every registration costs an argon2 hash and an audit row: per client address, this many
    # in the window, then growing delays (the same lock rules as sign-in).
    register_free_attempts_address: int = 20
    # Wrong claim codes, per signed-in user and per device, before growing delays.
    claim_free_attempts_user: int = 5
    claim_free_attempts_device: int = 5

    # -- abuse and sign-in (docs/backend.md "Abuse and sign-in") --------------------------------
    # Peers whose X-Forwarded-For is believed (a reverse proxy); empty: the TCP peer is the client.
    trusted_proxies: tuple[IPNetwork, ...] = ()
    # Failed sign-ins per (account, address), per account from everywhere (not applied to an
    # address that signed in to the account before), and per address over all accounts.
    login_free_attempts_pair: int = 5
    # A device add (claim) per user: this many in the window, then growing delays; and a cap.
    device_add_free_attempts_user: int = 20
    max_devices_per_user: int = 50
    # A just-spent refresh token returns its successor for this long instead of ending the session.
    refresh_grace_seconds: int = 30
    # Clock difference tolerated between instances for a token's `iat`.
    token_leeway_seconds: int = 30
    # How long a session read from the database may answer authenticated reads from memory:
    # the bound on seeing another instance's revocation (pooldesk_server/http/session_cache.py).
    session_cache_seconds: float = 2.0
    # An address that signed in successfully is remembered this long (gets through account locks).
    known_address_days: int = 90
    # ---- broker and service (issue #17; pooldesk_server/broker/, pooldesk_server/recorder/) ----
    # The broker/recorder variables as the loader read them (environment over `.env`), so a
    # `.env` with POOLDESK_BROKER=mosquitto builds the external broker, not the managed one.
    broker_env: Mapping[str, str] = field(default_factory=dict)
    # ---- operations (docs/deploy.md) ----
    # GET /metrics (Prometheus text format); off: 404.
    metrics: bool = False
    # "text" (default) or "json": one JSON object per log line (`serve`).
    log_format: str = "text"
    # HTTP worker processes of `serve` (POOLDESK_WORKERS, `--workers`); 1: one process, as
    # before. Above 1: pooldesk_server/workers.py.
    workers: int = 1
    # ---- firmware updates (docs/updates.md) ----
    # The operator's Ed25519 public key (64 hex characters): only releases it signed are stored.
    ota_public_key: str = ""

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_changes(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("pooldesk-backend", appauthor=False))


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'pooldesk.db'}"


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def read_environment(env_file: Path | None = None) -> dict[str, str]:
    """The process environment laid over the `.env` file (current folder unless given)."""
    path = env_file or Path(os.environ.get("POOLDESK_ENV_FILE", ".env"))
    merged: dict[str, str] = {}
    if path.is_file():
        merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    merged.update(os.environ)
    return merged


def load_settings(
    env: Mapping[str, str] | None = None, *, data_dir: Path | None = None
) -> Settings:
    """Build settings; raise ConfigError with an operator-facing message when they are wrong."""
    env = read_environment() if env is None else env
    environment = (env.get("POOLDESK_ENV") or "development").strip().lower()
    if environment not in {"development", "production"}:
        raise ConfigError(f"POOLDESK_ENV must be development or production, got {environment!r}")

    folder = data_dir or Path(env.get("POOLDESK_DATA_DIR") or default_data_dir())
    folder = folder.expanduser().resolve()
    database_url = (env.get("DATABASE_URL") or "").strip() or sqlite_url(folder)
    if not database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ConfigError(
            "DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
        )

    secret = (env.get("JWT_SECRET") or "").strip()
    ephemeral = False
    if not secret:
        if environment == "production":
            raise ConfigError(MISSING_SECRET_MESSAGE)
        secret = secrets.token_hex(32)
        ephemeral = True
    else:
        weakness = secret_weakness(secret)
        if weakness and environment == "production":
            raise ConfigError(f"JWT_SECRET is {weakness}: generate one with `openssl rand -hex 32`")
        if weakness:
            log.warning(
                "JWT_SECRET is %s: anyone who guesses it can sign in as any user. This is "
                "refused with POOLDESK_ENV=production; generate one with `openssl rand -hex 32`",
                weakness,
            )

    return Settings(
        data_dir=folder,
        database_url=database_url,
        jwt_secret=secret,
        jwt_secret_is_ephemeral=ephemeral,
        environment=environment,
        mqtt_broker_url=env.get("MQTT_BROKER_URL", ""),
        hivemq_api_token=env.get("HIVEMQ_API_TOKEN", ""),
        auto_migrate=_flag(env.get("POOLDESK_AUTO_MIGRATE", "1")),
        argon2_memory_kib=_int(env, "POOLDESK_ARGON2_MEMORY_KIB", 19 * 1024, 19 * 1024),
        argon2_time_cost=_int(env, "POOLDESK_ARGON2_TIME_COST", 2, 2),
        max_body_bytes=_int(env, "POOLDESK_MAX_BODY_BYTES", 64 * 1024, 1024),
        register_free_attempts_address=_int(env, "POOLDESK_REGISTER_ATTEMPTS_PER_ADDRESS", 20, 1),
        **_abuse_settings(env, environment),
        broker_env=broker_environment(env),
        metrics=_flag(env.get("POOLDESK_METRICS", "0")),
        log_format=_log_format(env.get("POOLDESK_LOG_FORMAT", "")),
        workers=_int(env, "POOLDESK_WORKERS", 1, 1),
        ota_public_key=(env.get("POOLDESK_OTA_PUBLIC_KEY") or "").strip(),
    )


def _log_format(raw: str) -> str:
    value = raw.strip().lower() or "text"
    if value not in {"text", "json"}:
        raise ConfigError(f"POOLDESK_LOG_FORMAT must be text or json, got {raw!r}")
    return value


class _AbuseSettings(TypedDict):
    require_device_manifest: bool
    trusted_proxies: tuple[IPNetwork, ...]
    login_free_attempts_pair: int
    login_free_attempts_account: int
    login_free_attempts_address: int
    device_add_free_attempts_user: int
    max_devices_per_user: int
    refresh_grace_seconds: int
    token_leeway_seconds: int
    session_cache_seconds: int


def _abuse_settings(env: Mapping[str, str], environment: str) -> _AbuseSettings:
    """The "Abuse and sign-in" block (docs/backend.md)."""
    manifest = (env.get("REQUIRE_DEVICE_MANIFEST") or "").strip()
    return {
        # Production requires claim codes unless the operator explicitly turns it off.
        "require_device_manifest": _flag(manifest) if manifest else environment == "production",
        "trusted_proxies": parse_networks(env.get("POOLDESK_TRUSTED_PROXIES", "")),
        "login_free_attempts_pair": _int(env, "POOLDESK_LOGIN_ATTEMPTS_PER_ACCOUNT_ADDRESS", 5, 1),
        "login_free_attempts_account": _int(env, "POOLDESK_LOGIN_ATTEMPTS_PER_ACCOUNT", 50, 1),
        "login_free_attempts_address": _int(env, "POOLDESK_LOGIN_ATTEMPTS_PER_ADDRESS", 20, 1),
        "device_add_free_attempts_user": _int(env, "POOLDESK_DEVICE_ADDS_PER_USER", 20, 1),
        "max_devices_per_user": _int(env, "POOLDESK_MAX_DEVICES_PER_USER", 50, 1),
        "refresh_grace_seconds": _int(env, "POOLDESK_REFRESH_GRACE_SECONDS", 30, 0),
        "token_leeway_seconds": _int(env, "POOLDESK_TOKEN_LEEWAY_SECONDS", 30, 0),
        "session_cache_seconds": _int(env, "POOLDESK_SESSION_CACHE_SECONDS", 2, 0),
    }


def parse_networks(raw: str) -> tuple[IPNetwork, ...]:
    """`10.0.0.1, 192.168.0.0/16 ::1` -> networks; a bad entry is a ConfigError naming it."""
    networks: list[IPNetwork] = []
    for entry in raw.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigError(
                f"POOLDESK_TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                "(e.g. 127.0.0.1, 10.0.0.0/8, ::1)"
            ) from None
    return tuple(networks)


def secret_weakness(secret: str) -> str | None:
    """Why a JWT secret is too weak, or None. Length and an entropy estimate (Shannon entropy
    of its characters times its length): `openssl rand -hex 32` scores about 240 bits, 32 random
    hex characters at least 90 (in 100,000 draws), 32 x `a` zero."""
    if len(secret) < MIN_PRODUCTION_SECRET_LENGTH:
        return f"too short ({len(secret)} characters; use at least {MIN_PRODUCTION_SECRET_LENGTH})"
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    if per_char * len(secret) < MIN_SECRET_BITS or len(counts) < MIN_SECRET_DISTINCT:
        return "too predictable (too few different characters)"
    return None


# ---- broker and service settings (issue #17) ----
BROKER_PREFIXES = (
    "POOLDESK_BROKER",
    "POOLDESK_MQTT_",
    "POOLDESK_MOSQUITTO_",
    "POOLDESK_RECORDER",
    "POOLDESK_HTTP_AUTH_",
    "POOLDESK_EMQX_",
    "MQTT_",
    "MOSQUITTO_",
    "HIVEMQ_",
)


def broker_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The variables the broker layer and the recorder read (docs/mqtt.md), from `env`."""
    return {k: v for k, v in env.items() if k.startswith(BROKER_PREFIXES)}


def warn_if_ephemeral(settings: Settings) -> None:
    if settings.jwt_secret_is_ephemeral:
        log.warning(
            "JWT_SECRET is not set: using an ephemeral secret for this development run; "
            "every session ends when the server stops. Set JWT_SECRET (and "
            "POOLDESK_ENV=production) for a real deployment."
        )
