"""schemathesis 4 against a real `pooldesk-backend serve`, signed in: for every operation of
/openapi.json, generated requests (a bounded number each) get no server error, only statuses the
document lists, JSON, and bodies that match the document's schemas."""

from __future__ import annotations

from pathlib import Path

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.backend.helpers import PASSWORD
from tests.backend.serve import running_serve

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = 12
# Generated data cannot end this session by accident except through these (random passwords
# never match, so account deletion and password change are safe to fuzz).
SKIPPED = {("POST", "/api/auth/logout")}


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path: Path):
    with running_serve(
        "sqlite",
        tmp_path,
        JWT_SECRET="schemathesis-" + "s" * 40,
        POOLDESK_REGISTER_ATTEMPTS_PER_ADDRESS="100000",
        POOLDESK_DEVICE_ADDS_PER_USER="100000",
    ) as server:
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            registered = http.post(
                "/api/auth/register",
                json={
                    "username": "fuzzer",
                    "email": "fuzzer@example.com",
                    "password": PASSWORD,
                    "deviceId": "ESP-A1B2C3",
                },
            )
            assert registered.status_code == 201, registered.text
            signed_in = http.post(
                "/api/auth/login", json={"username": "fuzzer", "password": PASSWORD}
            )
            assert signed_in.status_code == 200, signed_in.text
        headers = {"Authorization": f"Bearer {signed_in.json()['token']}"}
        schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
        ran: list[str] = []
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in SKIPPED:
                continue

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def run(case: schemathesis.Case) -> None:
                response = case.call(base_url=server.base_url, headers=headers, timeout=30)
                case.validate_response(response, checks=CHECKS)

            run()
            ran.append(f"{operation.method.upper()} {operation.path}")
        assert len(ran) >= 20, ran
        # The extensions' operations are fuzzed too (firmware updates, broker credentials).
        assert "POST /api/devices/{device_id}/firmware-update" in ran, ran
        assert "POST /api/firmware-update" in ran, ran
        # The session survived the run: what it found was refused, not acted on.
        assert httpx.get(f"{server.base_url}/api/auth/verify", headers=headers).status_code == 200
