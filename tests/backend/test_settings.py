"""Settings rules, and the PostgreSQL fixture's failure message."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from pooldesk_server.settings import ConfigError, load_settings
from tests.backend import postgres

STRONG = secrets.token_hex(32)


def test_development_without_secret_gets_an_ephemeral_one(tmp_path: Path, caplog):
    first = load_settings({}, data_dir=tmp_path)
    second = load_settings({}, data_dir=tmp_path)
    assert first.jwt_secret_is_ephemeral
    assert len(first.jwt_secret) >= 64
    assert first.jwt_secret != second.jwt_secret
    assert first.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'pooldesk.db'}"


def test_production_rules(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"^JWT_SECRET not configured in environment$"):
        load_settings({"POOLDESK_ENV": "production"}, data_dir=tmp_path)
    with pytest.raises(ConfigError, match="too short"):
        load_settings({"POOLDESK_ENV": "production", "JWT_SECRET": "short"}, data_dir=tmp_path)
    ok = load_settings(
        {"POOLDESK_ENV": "production", "JWT_SECRET": STRONG, "REQUIRE_DEVICE_MANIFEST": "1"},
        data_dir=tmp_path,
    )
    assert ok.is_production
    assert not ok.jwt_secret_is_ephemeral
    assert ok.require_device_manifest
    with pytest.raises(ConfigError, match="POOLDESK_ENV must be"):
        load_settings({"POOLDESK_ENV": "staging"}, data_dir=tmp_path)


def test_database_url_and_data_dir_from_environment(tmp_path: Path):
    url = "postgresql+asyncpg://u:p@127.0.0.1:5432/db"
    settings = load_settings({"DATABASE_URL": url, "POOLDESK_DATA_DIR": str(tmp_path)})
    assert settings.database_url == url
    assert settings.data_dir == tmp_path.resolve()
    assert not settings.is_sqlite


def test_the_registration_limit_per_address_can_be_raised_but_not_switched_off(tmp_path: Path):
    assert load_settings({}, data_dir=tmp_path).register_free_attempts_address == 20
    raised = load_settings({"POOLDESK_REGISTER_ATTEMPTS_PER_ADDRESS": "500"}, data_dir=tmp_path)
    assert raised.register_free_attempts_address == 500
    with pytest.raises(ConfigError, match="at least 1"):
        load_settings({"POOLDESK_REGISTER_ATTEMPTS_PER_ADDRESS": "0"}, data_dir=tmp_path)


def test_missing_postgres_binaries_fail_with_an_install_hint(monkeypatch):
    monkeypatch.setattr(postgres.glob, "glob", lambda pattern: [])
    with (
        pytest.raises(postgres.PostgresUnavailable, match="apt-get install postgresql"),
        postgres.postgres_cluster(),
    ):
        pass
