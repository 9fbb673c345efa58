"""POST /api/event and GET /api/history with API keys and JWTs; isolation and pagination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.backend.helpers import error_of, signed_in


async def _api_key(client, account, device_id="ESP-A1B2C3") -> dict[str, str]:
    response = await client.post(f"/api/devices/{device_id}/api-key", headers=account.auth)
    return {"X-API-Key": response.json()["apiKey"]}


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


async def test_device_posts_events_and_owner_reads_history(client):
    account = await signed_in(client)
    key = await _api_key(client, account)
    response = await client.post(
        "/api/event",
        json={"type": "pump/state", "data": {"on": True}, "ts": "2026-01-31T12:00:00Z"},
        headers=key,
    )
    assert response.status_code == 201, response.text
    event = response.json()["event"]
    assert event["deviceId"] == "ESP-A1B2C3"
    assert event["ts"] == "2026-01-31T12:00:00.000Z"
    assert event["data"] == {"on": True}

    by_jwt = await client.post(
        "/api/event",
        json={"deviceId": "esp-a1b2c3", "type": "telemetry", "data": {"temp": 26.1}},
        headers=account.auth,
    )
    assert by_jwt.status_code == 201

    history = await client.get(
        "/api/history", params={"deviceId": "ESP-A1B2C3"}, headers=account.auth
    )
    assert history.status_code == 200
    events = history.json()["events"]
    assert [e["type"] for e in events] == ["telemetry", "pump/state"]  # newest first
    assert history.json()["nextCursor"] is None
    assert (await client.get("/api/history", headers=key)).json()["events"] == events


async def test_history_filters_by_type_time_and_paginates(client):
    account = await signed_in(client)
    key = await _api_key(client, account)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for n in range(25):
        kind = "telemetry" if n % 2 == 0 else "alert"
        await client.post(
            "/api/event",
            json={"type": kind, "data": {"n": n}, "ts": _iso(start + timedelta(minutes=n))},
            headers=key,
        )
    seen: list[int] = []
    cursor = None
    while True:
        params = {"type": "telemetry", "limit": "5"}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/history", params=params, headers=account.auth)).json()
        seen.extend(e["data"]["n"] for e in page["events"])
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == list(range(24, -1, -2))
    window = await client.get(
        "/api/history",
        params={
            "from": _iso(start + timedelta(minutes=10)),
            "to": _iso(start + timedelta(minutes=12)),
        },
        headers=key,
    )
    assert [e["data"]["n"] for e in window.json()["events"]] == [12, 11, 10]


async def test_events_at_the_same_instant_are_paged_once_each(client):
    """A reading sent twice in one second (a retry) is two events: paging through them by
    cursor, with a device filter and a time window, shows each once, newest (last stored) first."""
    account = await signed_in(client)
    key = await _api_key(client, account)
    ids = []
    for n in range(5):
        answer = await client.post(
            "/api/event",
            json={"type": "telemetry", "data": {"n": n}, "ts": "2026-03-01T00:00:00Z"},
            headers=key,
        )
        ids.append(answer.json()["event"]["id"])
    seen: list[int] = []
    params = {"deviceId": "ESP-A1B2C3", "from": "2026-03-01T00:00:00Z", "limit": "2"}
    while True:
        page = (await client.get("/api/history", params=params, headers=account.auth)).json()
        seen.extend(e["id"] for e in page["events"])
        if page["nextCursor"] is None:
            break
        params["cursor"] = page["nextCursor"]
    assert seen == ids[::-1]


async def test_history_rejects_bad_parameters(client):
    account = await signed_in(client)
    cases = [
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "ten"},
        {"from": "yesterday"},
        {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
        {"cursor": "abc"},
        {"deviceId": "pool-01"},
        {"type": "bad type!"},
    ]
    for params in cases:
        response = await client.get("/api/history", params=params, headers=account.auth)
        assert response.status_code == 400, (params, response.text)
        assert error_of(response)["code"] == "validation_error"


async def test_a_jwt_only_reaches_its_own_devices(client):
    alice = await signed_in(client, "alice", device_id="ESP-000001")
    bob = await signed_in(client, "bob", device_id="ESP-000002")
    bob_key = await _api_key(client, bob, "ESP-000002")
    await client.post(
        "/api/event", json={"type": "telemetry", "data": {"secret": 1}}, headers=bob_key
    )

    read = await client.get("/api/history", params={"deviceId": "ESP-000002"}, headers=alice.auth)
    assert read.status_code == 404
    write = await client.post(
        "/api/event", json={"deviceId": "ESP-000002", "type": "x"}, headers=alice.auth
    )
    assert write.status_code == 404
    everything = await client.get("/api/history", headers=alice.auth)
    assert everything.json()["events"] == []


async def test_an_api_key_only_reaches_its_own_device(client):
    alice = await signed_in(client, "alice", device_id="ESP-000001")
    await client.post("/api/devices", json={"deviceId": "ESP-000003"}, headers=alice.auth)
    key = await _api_key(client, alice, "ESP-000001")
    other_device = await client.post(
        "/api/event", json={"deviceId": "ESP-000003", "type": "telemetry"}, headers=key
    )
    assert other_device.status_code == 403
    assert other_device.json()["error"]["reason"] == "other_device_key"
    read_other = await client.get("/api/history", params={"deviceId": "ESP-000003"}, headers=key)
    assert read_other.status_code == 403
    assert read_other.json()["error"]["reason"] == "other_device_key"
    bad_key = await client.post("/api/event", json={"type": "x"}, headers={"X-API-Key": "nope"})
    assert bad_key.status_code == 401
    nobody = await client.get("/api/history")
    assert nobody.status_code == 401


async def test_event_body_errors(client):
    account = await signed_in(client)
    cases = [
        ({"type": "telemetry"}, "deviceId"),
        ({"deviceId": "ESP-A1B2C3"}, "type"),
        ({"deviceId": "ESP-A1B2C3", "type": "t", "ts": "noon"}, "ISO-8601"),
        ({"deviceId": "ESP-A1B2C3", "type": "t", "ts": "2026-01-01T00:00:00"}, "zone"),
        ({"deviceId": "ESP-A1B2C3", "type": ""}, "type must be"),
    ]
    for body, word in cases:
        response = await client.post("/api/event", json=body, headers=account.auth)
        assert response.status_code == 400, (body, response.text)
        assert word in error_of(response)["message"], (body, response.text)


async def test_unbinding_a_device_deletes_its_history(client):
    account = await signed_in(client)
    key = await _api_key(client, account)
    await client.post("/api/event", json={"type": "telemetry"}, headers=key)
    await client.delete("/api/devices/ESP-A1B2C3", headers=account.auth)
    other = await signed_in(client, "other", device_id="ESP-000002")
    await client.post("/api/devices", json={"deviceId": "ESP-A1B2C3"}, headers=other.auth)
    history = await client.get(
        "/api/history", params={"deviceId": "ESP-A1B2C3"}, headers=other.auth
    )
    assert history.json()["events"] == []
    assert (await client.post("/api/event", json={"type": "t"}, headers=key)).status_code == 401
