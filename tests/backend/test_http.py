"""The HTTP envelope: unknown routes, wrong methods, bad bodies, size limit, health, OpenAPI."""

from __future__ import annotations

import re
import time

import pytest
from openapi_spec_validator import validate as validate_spec
from sqlalchemy import event

from pooldesk_server.app import core_operations
from pooldesk_server.http.contract import served_operations
from tests.backend.contract import ContractChecker
from tests.backend.helpers import error_of, signed_in

OPERATIONS = core_operations()


async def test_unknown_route_is_a_json_404(client):
    response = await client.get("/api/nothing-here")
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "not_found"
    assert "/api/nothing-here" in error["message"]


async def test_wrong_method_is_a_json_405_naming_the_allowed_ones(client):
    response = await client.put("/api/devices")
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    assert "POST" in response.headers["allow"]
    assert error_of(response)["code"] == "method_not_allowed"
    assert "GET" in error_of(response)["message"]


async def test_invalid_json_uses_the_seed_wording(client):
    for content, content_type in [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"\xff\xfe", "application/json"),
        (b'{"a": NaN}', "application/json"),
        (b'{"a": 1e999}', "application/json"),
    ]:
        response = await client.post(
            "/api/auth/register", content=content, headers={"Content-Type": content_type}
        )
        assert response.status_code == 400, content
        error = error_of(response)
        assert error == {"code": "invalid_json", "message": "Invalid JSON"}, content
    array = await client.post("/api/auth/login", json=[1, 2])
    assert error_of(array)["code"] == "invalid_json"
    assert error_of(array)["message"].startswith("Invalid JSON")
    form = await client.post(
        "/api/auth/login",
        content=b"username=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 400
    assert "Content-Type: application/json" in error_of(form)["message"]


async def test_oversized_body_is_a_json_413(client, settings):
    big = b'{"username": "' + b"a" * (settings.max_body_bytes + 10) + b'"}'
    response = await client.post(
        "/api/auth/login", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"

    async def chunks():  # no Content-Length: the limit still holds while streaming
        for _ in range(settings.max_body_bytes // 1000 + 5):
            yield b" " * 1000

    streamed = await client.post(
        "/api/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413


async def test_healthz(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True, "status": "ok"}


async def test_openapi_matches_the_routes(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    listed = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    served = served_operations(client.app.routes)
    assert listed == served
    assert set(OPERATIONS) == served, "OPERATIONS has entries for routes that do not exist"
    register = document["paths"]["/api/auth/register"]["post"]
    body_ref = register["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body_schema = document["components"]["schemas"][body_ref.rsplit("/", 1)[-1]]
    assert set(body_schema["required"]) == {
        "username",
        "email",
        "password",
    }  # deviceId may be left out: an account without a controller (docs/sharing.md)
    assert "201" in register["responses"]
    assert "409" in register["responses"]


async def test_every_served_route_answers_the_documented_way_without_auth(client):
    """Each protected operation in the document says 401, and does answer 401 without a token."""
    document = (await client.get("/openapi.json")).json()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if "security" not in operation:
                continue
            concrete = path.replace("{device_id}", "ESP-A1B2C3").replace("{session_id}", "x")
            response = await client.request(method.upper(), concrete, json={})
            assert response.status_code == 401, (method, path, response.text)
            assert "401" in operation["responses"]


async def test_bearer_header_variants(client):
    account = await signed_in(client)
    for header in ("Bearer", "Basic abc", "Bearer   ", f"Token {account.token}"):
        response = await client.get("/api/auth/verify", headers={"Authorization": header})
        assert response.status_code == 401, header
    lower = await client.get(
        "/api/auth/verify", headers={"Authorization": f"bearer {account.token}"}
    )
    assert lower.status_code == 200


async def test_head_is_answered_wherever_get_is(client):
    assert (await client.head("/healthz")).status_code == 200
    assert (await client.head("/api/devices")).status_code == 401
    assert (await client.head("/api/auth/login")).status_code == 405


async def test_every_method_on_every_path_is_answered_without_a_server_error(client):
    account = await signed_in(client)
    paths = {path for path, _ in OPERATIONS}
    for path in paths:
        concrete = path.replace("{device_id}", "ESP-A1B2C3").replace("{session_id}", "nope")
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"):
            if (path, method) in {("/api/account", "DELETE"), ("/api/auth/logout", "POST")}:
                continue  # would end the account / session the loop still uses
            response = await client.request(method, concrete, headers=account.auth)
            assert response.status_code < 500, (method, path, response.text)
            if method != "HEAD" and not (path == "/openapi.json" and method == "GET"):
                assert "ok" in response.json()


async def test_liveness_touches_no_database_and_readiness_probes_it_once_a_second(client):
    statements: list[str] = []
    engines = client.app.state.ctx.db.read_engines()

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)  # (on PostgreSQL housekeeping shares the engine)

    def probes() -> int:
        return sum(1 for s in statements if s.strip().upper() == "SELECT 1")

    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(30):
            response = await client.get("/livez")
            assert response.status_code == 200
            assert response.json() == {"ok": True, "status": "ok"}
        assert probes() == 0
        started = time.monotonic()
        for path in ("/readyz", "/healthz") * 15:
            response = await client.get(path)
            assert response.status_code == 200
            assert response.json()["status"] == "ok"
        seconds = time.monotonic() - started
        assert 1 <= probes() <= int(seconds) + 2
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


async def test_openapi_document_is_valid_openapi_3_1(client):
    document = (await client.get("/openapi.json")).json()
    validate_spec(document)  # raises on any error
    for path, item in document["paths"].items():
        for operation in item.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{([^}]+)}", path)), path


async def test_the_contract_check_refuses_what_breaks_the_document(client):
    checker = ContractChecker((await client.get("/openapi.json")).json())
    checker.check("GET", "/api/devices", 200, b'{"ok": true, "devices": []}')
    with pytest.raises(AssertionError, match="violates"):
        checker.check("GET", "/api/devices", 200, b'{"ok": true, "devices": [{"deviceId": 1}]}')
    with pytest.raises(AssertionError, match="violates"):
        checker.check("GET", "/api/auth/verify", 401, b'{"ok": false}')
    with pytest.raises(AssertionError, match="not listed"):
        checker.check("GET", "/api/devices", 418, b'{"ok": false}')
    # A refusal's reason is one the document lists (pooldesk_contract/refusals.py).
    refused = b'{"ok": false, "error": {"code": "not_found", "message": "x", "reason": "%s"}}'
    checker.check("GET", "/api/devices/ESP-A00001", 404, refused % b"device_not_found")
    with pytest.raises(AssertionError, match="violates"):
        checker.check("GET", "/api/devices/ESP-A00001", 404, refused % b"gone_fishing")
