"""The `pooldesk-backend` command: help, settings refusal, migrate, manifest import."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from pooldesk_server.db.migrate import head_revision

PYTHON = sys.executable
REPO = Path(__file__).resolve().parents[2]


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"JWT_SECRET", "DATABASE_URL", "REQUIRE_DEVICE_MANIFEST"}
        and not k.startswith("POOLDESK_")
    }
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "pooldesk_server.cli", *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_everywhere(tmp_path: Path):
    for args in (
        [],
        ["serve"],
        ["migrate"],
        ["devices"],
        ["devices", "import"],
        ["broker"],
        ["broker", "sync"],
        ["recorder"],
        ["users", "list"],
        ["users", "disable"],
        ["devices", "list"],
        ["sessions", "revoke"],
        ["activity"],
    ):
        result = run_cli(*args, "--help", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "usage: pooldesk-backend" in result.stdout
    serve_help = run_cli("serve", "--help", cwd=tmp_path).stdout
    for flag in ("--host", "--port", "--data-dir", "127.0.0.1", "8788"):
        assert flag in serve_help


def test_production_without_secret_refuses_to_start(tmp_path: Path):
    result = run_cli("serve", "--data-dir", str(tmp_path), cwd=tmp_path, POOLDESK_ENV="production")
    assert result.returncode != 0
    assert result.stderr.strip() == "JWT_SECRET not configured in environment"
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "pooldesk.db").exists()


def test_settings_come_from_a_dotenv_file(tmp_path: Path):
    (tmp_path / ".env").write_text("POOLDESK_ENV=production\n")
    result = run_cli("migrate", "--data-dir", str(tmp_path), cwd=tmp_path)
    assert result.stderr.strip() == "JWT_SECRET not configured in environment"
    strong = secrets.token_hex(32)
    (tmp_path / ".env").write_text(f"POOLDESK_ENV=production\nJWT_SECRET={strong}\n")
    result = run_cli("migrate", "--data-dir", str(tmp_path / "data"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"schema {head_revision()}" in result.stdout


def test_migrate_and_import_a_manifest(tmp_path: Path):
    data = tmp_path / "data"
    migrated = run_cli("migrate", "--data-dir", str(data), cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert f"schema {head_revision()}" in migrated.stdout
    assert (data / "pooldesk.db").exists()

    good = tmp_path / "factory.csv"
    good.write_text(
        "deviceId,claimCode\nESP-A1B2C3,K7QF3ZP9M2XD8RWA\nesp-00beef,ABCD-EFGH-JKLM-NPQR\n"
    )
    result = run_cli("devices", "import", str(good), "--data-dir", str(data), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 devices added, 0 updated" in result.stdout
    again = run_cli("devices", "import", str(good), "--data-dir", str(data), cwd=tmp_path)
    assert "0 devices added, 2 updated" in again.stdout

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "deviceId,claimCode\nESP-A1B2C3,K7QF3ZP9M2XD8RWA\nESP-12,ABCDEFGHJKLMNPQR\n"
        "ESP-00CAFE,ABCD-EFGH-JKLM\n"
    )
    refused = run_cli("devices", "import", str(bad), "--data-dir", str(data), cwd=tmp_path)
    assert refused.returncode == 1
    assert "line 3" in refused.stderr
    assert "nothing imported" in refused.stderr
    assert "line 4: ESP-00CAFE: claim code missing or shorter than 16" in refused.stderr
    assert "Traceback" not in refused.stderr

    missing = run_cli("devices", "import", str(tmp_path / "nope.csv"), cwd=tmp_path)
    assert missing.returncode == 1
    assert "cannot read" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_unreachable_database_is_reported_plainly(tmp_path: Path):
    from tests.support.ports import free_port

    url = f"postgresql+asyncpg://nobody:secretpw@127.0.0.1:{free_port()}/none"
    result = run_cli("migrate", cwd=tmp_path, DATABASE_URL=url)
    assert result.returncode == 1
    assert "cannot prepare the database" in result.stderr
    assert "secretpw" not in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_settings_are_reported_plainly(tmp_path: Path):
    result = run_cli("migrate", cwd=tmp_path, DATABASE_URL="mysql://x")
    assert result.returncode != 0
    assert "DATABASE_URL must start with" in result.stderr


@pytest.mark.parametrize("variable", ["POOLDESK_ARGON2_MEMORY_KIB", "POOLDESK_ARGON2_TIME_COST"])
def test_argon2_cannot_be_set_below_the_owasp_minimum(tmp_path: Path, variable: str):
    result = run_cli("migrate", "--data-dir", str(tmp_path), cwd=tmp_path, **{variable: "1"})
    assert result.returncode != 0
    assert variable in result.stderr
    assert "at least" in result.stderr


def test_broker_sync_on_a_fresh_data_folder_reports_and_succeeds(tmp_path: Path):
    help_text = run_cli("broker", "sync", "--help", cwd=tmp_path).stdout
    assert "--data-dir" in help_text
    assert "Re-create at the broker" in help_text
    data = tmp_path / "data"
    result = run_cli("broker", "sync", "--data-dir", str(data), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("removed 0 login(s) from the broker"), result.stdout
    assert "Traceback" not in result.stderr
    assert (data / "pooldesk.db").exists(), "the database was migrated first"


def test_recorder_without_a_running_serve_says_what_to_start(tmp_path: Path):
    data = tmp_path / "data"
    result = run_cli("recorder", "--data-dir", str(data), cwd=tmp_path)
    assert result.returncode == 1
    assert "error: recorder: no managed broker is running on" in result.stderr
    assert "start `pooldesk-backend serve`" in result.stderr
    assert "Traceback" not in result.stderr
