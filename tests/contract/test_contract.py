"""The contract package itself: dependency-free, one table consistent with its schema, and the
same readings of ids and claim codes on every side."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest

from pooldesk_contract import claimcode, ids, topics
from pooldesk_contract.refusals import Reason
from pooldesk_contract.schema import mqtt_schema, topic_schema

ROOT = Path(__file__).resolve().parents[2]


def run_fresh(code: str) -> str:
    """What `code` prints in a fresh interpreter (nothing imported by the test session)."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()


def test_the_contract_imports_only_the_standard_library():
    """Backend, app, simulator and tests can all import it: it pulls in nothing of theirs."""
    probe = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import pooldesk_contract, pooldesk_contract.topics, pooldesk_contract.ids\n"
        "import pooldesk_contract.claimcode, pooldesk_contract.accounts, pooldesk_contract.schema\n"
        "import pooldesk_contract.passwords\n"
        "pooldesk_contract.passwords.common_passwords()\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print('\\n'.join(sorted(new - set(sys.stdlib_module_names))))"
    )
    assert run_fresh(probe).split() == ["pooldesk_contract"]


def test_the_wheel_ships_the_package_and_its_schema():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    include = config["packages"]["find"]["include"]
    assert any(Path("pooldesk_contract").match(pattern) for pattern in include)
    data = config["package-data"]
    assert "*.json" in data.get("*", []) + data.get("pooldesk_contract", [])
    assert "pooldesk_contract/mqtt.schema.json" in (ROOT / "pooldesk.spec").read_text()
    assert "pooldesk_contract/common_passwords.txt" in (ROOT / "pooldesk.spec").read_text()


def test_the_apps_checks_do_not_import_the_server():
    """The app's live password checklist uses the contract's list, not the server package."""
    probe = (
        "import sys\n"
        "import pooldesk.core.validation as v\n"
        "assert not v.password_error('Correct-Horse-9-battery')\n"
        "assert v.password_error('Password123!')\n"
        "print(sorted(m for m in sys.modules if m.startswith('pooldesk_server')))"
    )
    assert run_fresh(probe) == "[]"


def test_server_and_app_refuse_the_same_well_known_passwords():
    from pooldesk.core.validation import password_error as app_refuses
    from pooldesk_server.security.password_policy import password_error as server_refuses

    for password in ("Password123!", "P@ssw0rd2024!", "Qwerty-12345!", "Alice-2024!!x"):
        assert (app_refuses(password, "alice") is None) == (
            server_refuses(password, username="alice") is None
        ), password


def test_the_schema_is_valid_and_names_exactly_the_topics_of_the_table():
    whole = mqtt_schema()
    jsonschema.Draft202012Validator.check_schema(whole)
    assert sorted(whole["topics"]) == sorted(t.name for t in topics.DEVICE_TOPICS)


def test_topic_helpers_agree_with_the_table():
    prefix = topics.device_prefix("alice", "ESP-A1B2C3")
    assert prefix == "users/alice/devices/esp-a1b2c3"
    match = topics.DEVICE_TOPIC.fullmatch(prefix + "/pump/state")
    assert match is not None
    assert match.groups() == ("alice", "esp-a1b2c3", "pump/state")
    assert topics.command_topic("users/alice", "esp-a1b2c3", "pump") == prefix + "/pump/set"
    with pytest.raises(ValueError, match="not a command kind"):
        topics.command_topic("users/alice", "esp-a1b2c3", "telemetry")
    assert topics.topic_named("alert/freeze") is topics.BY_NAME["alert/+"]
    assert topics.topic_named("alert/a/b") is None
    assert topics.topic_named("pump") is None
    assert set(topics.DEVICE_PUBLISHES).isdisjoint(topics.DEVICE_RECEIVES)
    assert set(topics.RECORDED) <= set(topics.DEVICE_PUBLISHES)
    assert {"devices/+/status", "devices/+/pump/state"} <= set(topics.dashboard_subscriptions())


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("KQ4M-7XTZ-2PB6-WRHD", "KQ4M7XTZ2PB6WRHD"),
        (" kq4m 7xtz\t2pb6-wrhd ", "KQ4M7XTZ2PB6WRHD"),
        ("KQ4M-0XTZ-2P86-W1HD", "KQ4MOXTZ2PB6WIHD"),  # 0/8/1 read as O/B/I
    ],
)
def test_app_and_backend_read_a_typed_claim_code_the_same_way(typed, canonical):
    from pooldesk.provisioning.claimcode import normalize as app_reads
    from pooldesk_server.devices.ids import normalize_claim_code as backend_reads

    assert app_reads(typed) == backend_reads(typed) == claimcode.clean(typed) == canonical


def test_generated_claim_codes_are_well_formed_and_differ():
    codes = {claimcode.generate() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert claimcode.problem(code) is None
        assert claimcode.clean(code) == code
    # what is wrong, as a reason with values each reader words its own way; English for logs
    short = claimcode.problem("KQ4M7XTZ")
    assert short == claimcode.Problem(claimcode.Reason.LENGTH, {"length": 16, "count": 8})
    assert str(short) == (
        "A claim code has 16 letters and digits (like KQ4M-7XTZ-2PB6-WRHD); this one has 8."
    )
    wrong = claimcode.problem("KQ4M7XTZ2PB6WR9H")
    assert wrong == claimcode.Problem(claimcode.Reason.CHARACTERS, {"characters": "9"})


def test_device_id_forms_round_trip():
    assert ids.device_id_from_mac(bytes.fromhex("240ac4a1b2c3")) == "ESP-A1B2C3"
    assert ids.normalize_device_id(" esp-a1b2c3 ") == "ESP-A1B2C3"
    assert ids.normalize_device_id("ESP-A1B2C") is None
    assert ids.device_id_from_topic(ids.topic_id("ESP-A1B2C3")) == "ESP-A1B2C3"
    assert ids.TOPIC_ID.fullmatch(ids.topic_id("ESP-A1B2C3"))


def test_a_payload_that_breaks_the_contract_is_refused_by_its_schema():
    """The schema is strict enough to catch a wrong field: a check that cannot fail proves
    nothing about the messages validated against it elsewhere."""
    state = {"on": True, "mode": "manual", "until": None, "cmd_id": "C1", "ts": None}
    jsonschema.validate(state, topic_schema("pump/state"))
    for broken in ({**state, "mode": "turbo"}, {**state, "onn": True}, {**state, "ts": "now"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, topic_schema("pump/state"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {"cmd_id": "C1", "ts": "2026-01-01T00:00:00Z"}, topic_schema("pump/set")
        )
    assert json.loads(json.dumps(mqtt_schema())) == mqtt_schema()


def test_every_refusal_reason_is_documented_and_given_by_the_server():
    """The error body's reasons are contract: each is in docs/backend.md's table and raised
    somewhere in the server (a reason nobody gives, or one a client cannot look up, is a bug)."""
    table = (ROOT / "docs" / "backend.md").read_text("utf-8")
    server = "\n".join(p.read_text("utf-8") for p in (ROOT / "pooldesk_server").rglob("*.py"))
    assert len({r.value for r in Reason}) == len(Reason)
    for reason in Reason:
        assert f"| `{reason.value}` |" in table, reason
        assert f"Reason.{reason.name}" in server, reason
