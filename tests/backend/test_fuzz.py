"""Property-based fuzzing of every endpoint's body, query and path: never a 5xx, always the
JSON envelope. Runs against each served operation of /openapi.json, on both databases."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pooldesk_server.app import core_operations
from tests.backend.conftest import open_client
from tests.backend.helpers import PASSWORD

OPERATIONS = core_operations()

KNOWN_KEYS = [
    "username", "email", "password", "deviceId", "claimCode", "refreshToken", "currentPassword",
    "newPassword", "name", "type", "data", "ts",
]  # fmt: skip
GOOD_VALUES = [
    "testuser", "fuzzer", "fuzz@example.com", PASSWORD, "ESP-A1B2C3", "esp-0000ff", "ESP-00BEEF",
    "telemetry", "2026-01-31T12:00:00Z", "Another-Pass-456$", "",
]  # fmt: skip
QUERY_KEYS = ["deviceId", "type", "from", "to", "limit", "cursor"]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from(GOOD_VALUES)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=6), json_values, max_size=6).map(
        lambda d: json.dumps(d).encode()
    ),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
)
queries = st.dictionaries(
    st.sampled_from(QUERY_KEYS),
    st.text(max_size=30) | st.sampled_from(GOOD_VALUES) | st.integers(-5, 5000).map(str),
    max_size=4,
)
path_values = st.text(max_size=20) | st.sampled_from(["ESP-A1B2C3", "esp-a1b2c3", "x", "%", ".."])
content_types = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", ""]
)


class SyncClient:
    """Drives the ASGI app on a private event loop so hypothesis can stay synchronous."""

    def __init__(self, loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient) -> None:
        self.loop = loop
        self.client = client

    def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        return self.loop.run_until_complete(self.client.request(method, url, **kwargs))

    def post(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("POST", url, **kwargs)


@pytest.fixture
def http(settings) -> Iterator[tuple[SyncClient, dict[str, str]]]:
    loop = asyncio.new_event_loop()
    clients = open_client(settings)
    try:
        client = SyncClient(loop, loop.run_until_complete(clients.__anext__()))
        client.post(
            "/api/auth/register",
            json={
                "username": "testuser",
                "email": "test@example.com",
                "password": PASSWORD,
                "deviceId": "ESP-A1B2C3",
            },
        )
        login = client.post("/api/auth/login", json={"username": "testuser", "password": PASSWORD})
        token = login.json()["token"]
        key = client.post(
            "/api/devices/ESP-A1B2C3/api-key", headers={"Authorization": f"Bearer {token}"}
        )
        yield client, {"token": f"Bearer {token}", "apiKey": key.json()["apiKey"]}
    finally:
        loop.run_until_complete(clients.aclose())
        loop.close()


def _check(response, path: str) -> None:
    assert response.status_code < 500, response.text
    body = response.json()
    if path == "/openapi.json" and response.status_code == 200:
        assert body["openapi"].startswith("3.1")
        return
    assert isinstance(body, dict)
    assert isinstance(body.get("ok"), bool)
    if not body["ok"]:
        assert isinstance(body["error"]["code"], str)
        assert body["error"]["message"]


@pytest.mark.parametrize("operation", sorted(OPERATIONS), ids=lambda op: f"{op[1]} {op[0]}")
def test_no_input_gives_a_server_error(http, operation):
    client, credentials = http
    path, method = operation

    @hypothesis_settings(
        max_examples=20,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        body=bodies,
        query=queries,
        segment=path_values,
        content_type=content_types,
        auth=st.sampled_from(["token", "apiKey", "none", "junk"]),
    )
    def run(body: bytes, query: dict, segment: str, content_type: str, auth: str) -> None:
        concrete = path.replace("{device_id}", quote(segment, safe="")).replace(
            "{session_id}", quote(segment, safe="")
        )
        headers = {"Content-Type": content_type} if content_type else {}
        if auth == "token":
            headers["Authorization"] = credentials["token"]
        elif auth == "apiKey":
            headers["X-API-Key"] = credentials["apiKey"]
        elif auth == "junk":
            headers["Authorization"] = "Bearer " + quote(segment)
        response = client.request(method, concrete, params=query, content=body, headers=headers)
        _check(response, path)

    run()
