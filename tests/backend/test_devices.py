"""Device ownership, the factory manifest with claim codes, and per-device API keys."""

from __future__ import annotations

from pathlib import Path

from pooldesk_server.db.engine import Database
from pooldesk_server.devices.manifest import import_manifest, parse_manifest
from tests.backend.conftest import open_client
from tests.backend.helpers import PASSWORD, error_of, register, signed_in

CLAIM_CODE = "K7QF-3ZP9-M2XD-8RWA"


async def _import(settings, text: str) -> None:
    database = Database(settings.database_url)
    try:
        await import_manifest(database, parse_manifest(text))
    finally:
        await database.dispose()


async def test_list_add_rename_and_remove_devices(client):
    account = await signed_in(client)
    added = await client.post(
        "/api/devices", json={"deviceId": "esp-0000ff", "name": "Spa"}, headers=account.auth
    )
    assert added.status_code == 201, added.text
    device = added.json()["device"]
    assert device["deviceId"] == "ESP-0000FF"
    assert device["name"] == "Spa"
    assert device["type"] == "pool-controller"
    assert device["topicPrefix"] == "users/testuser/devices/esp-0000ff"
    assert device["status"] == "offline"
    assert device["lastSeen"] is None

    listed = (await client.get("/api/devices", headers=account.auth)).json()["devices"]
    assert [d["deviceId"] for d in listed] == ["ESP-A1B2C3", "ESP-0000FF"]

    renamed = await client.patch(
        "/api/devices/ESP-0000FF", json={"name": "  Hot tub "}, headers=account.auth
    )
    assert renamed.status_code == 200
    assert renamed.json()["device"]["name"] == "Hot tub"

    removed = await client.delete("/api/devices/esp-0000ff", headers=account.auth)
    assert removed.status_code == 200
    assert "removed" in removed.json()["message"]
    listed = (await client.get("/api/devices", headers=account.auth)).json()["devices"]
    assert [d["deviceId"] for d in listed] == ["ESP-A1B2C3"]


async def test_device_errors(client):
    alice = await signed_in(client, "alice", device_id="ESP-000001")
    bob = await signed_in(client, "bob", device_id="ESP-000002")
    taken = await client.post("/api/devices", json={"deviceId": "ESP-000002"}, headers=alice.auth)
    assert taken.status_code == 409
    assert error_of(taken) == {
        "code": "conflict",
        "message": "Device ESP-000002 is already registered to another account",
        "reason": "device_registered_elsewhere",
    }
    mine = await client.post("/api/devices", json={"deviceId": "ESP-000001"}, headers=alice.auth)
    assert mine.status_code == 409
    assert error_of(mine) == {
        "code": "conflict",
        "message": "Device ESP-000001 is already on your account",
        "reason": "device_on_your_account",
    }
    bad = await client.post("/api/devices", json={"deviceId": "pool-01"}, headers=alice.auth)
    assert bad.status_code == 400
    # Bob's device is invisible to Alice: 404, never touched.
    for method in ("patch", "delete"):
        kwargs = {"json": {"name": "mine now"}} if method == "patch" else {}
        response = await getattr(client, method)(
            "/api/devices/ESP-000002", headers=alice.auth, **kwargs
        )
        assert response.status_code == 404
    bobs = (await client.get("/api/devices", headers=bob.auth)).json()["devices"]
    assert bobs[0]["name"] == "ESP-000002"
    empty_name = await client.patch(
        "/api/devices/ESP-000001", json={"name": "  "}, headers=alice.auth
    )
    assert empty_name.status_code == 400
    assert (await client.get("/api/devices")).status_code == 401
    not_an_id = await client.delete("/api/devices/whatever", headers=alice.auth)
    assert not_an_id.status_code == 404


async def test_an_unbound_device_can_be_claimed_by_someone_else(client):
    alice = await signed_in(client, "alice", device_id="ESP-000001")
    await client.post("/api/devices", json={"deviceId": "ESP-000099"}, headers=alice.auth)
    await client.delete("/api/devices/ESP-000099", headers=alice.auth)
    bob = await signed_in(client, "bob", device_id="ESP-000002")
    claimed = await client.post("/api/devices", json={"deviceId": "ESP-000099"}, headers=bob.auth)
    assert claimed.status_code == 201


async def test_manifest_devices_need_their_claim_code(client, settings):
    await _import(settings, f"deviceId,claimCode\nESP-A1B2C3,{CLAIM_CODE}\n")
    body = {
        "username": "testuser",
        "email": "test@example.com",
        "password": PASSWORD,
        "deviceId": "ESP-A1B2C3",
    }
    missing = await client.post("/api/auth/register", json=body)
    assert missing.status_code == 400
    assert "claimCode is required" in error_of(missing)["message"]
    wrong = await client.post("/api/auth/register", json={**body, "claimCode": "WRONG-CODE-1234"})
    assert wrong.status_code == 403
    assert "Claim code does not match" in error_of(wrong)["message"]
    assert error_of(wrong)["reason"] == "wrong_claim_code"
    # Codes compare without dashes or case.
    right = await client.post(
        "/api/auth/register", json={**body, "claimCode": CLAIM_CODE.replace("-", "").lower()}
    )
    assert right.status_code == 201, right.text


async def test_manifest_claim_code_on_add_device(client, settings):
    await _import(settings, f"deviceId,claimCode\nesp-00beef,{CLAIM_CODE}\n")
    account = await signed_in(client)
    wrong = await client.post(
        "/api/devices",
        json={"deviceId": "ESP-00BEEF", "claimCode": "nope-nope"},
        headers=account.auth,
    )
    assert wrong.status_code == 403
    right = await client.post(
        "/api/devices",
        json={"deviceId": "ESP-00BEEF", "claimCode": CLAIM_CODE},
        headers=account.auth,
    )
    assert right.status_code == 201


async def test_digits_typed_for_look_alike_letters_match_as_in_the_app(client, settings):
    """A label's O, I and B read as 0, 1 and 8: the backend reads them as the app does
    (pooldesk_contract.claimcode), so a caller of the API is not refused where the app is not."""
    printed = "KQ4M-OXTZ-2PB6-WIHD"
    await _import(settings, f"deviceId,claimCode\nESP-00BEEF,{printed}\n")
    account = await signed_in(client)
    misread = printed.replace("O", "0").replace("I", "1").replace("B", "8").lower()
    still_wrong = misread.replace("k", "x")
    refused = await client.post(
        "/api/devices",
        json={"deviceId": "ESP-00BEEF", "claimCode": still_wrong},
        headers=account.auth,
    )
    assert refused.status_code == 403
    added = await client.post(
        "/api/devices", json={"deviceId": "ESP-00BEEF", "claimCode": misread}, headers=account.auth
    )
    assert added.status_code == 201, added.text


async def test_require_device_manifest_refuses_unlisted_devices(settings):
    strict = settings.with_changes(require_device_manifest=True)
    await _import(strict, f"deviceId,claimCode\nESP-000001,{CLAIM_CODE}\n")
    async for client in open_client(strict):
        body = {"username": "alice", "email": "a@example.com", "password": PASSWORD}
        unlisted = await client.post("/api/auth/register", json={**body, "deviceId": "ESP-000002"})
        assert unlisted.status_code == 403
        assert "not in the factory manifest" in error_of(unlisted)["message"]
        assert error_of(unlisted)["reason"] == "not_in_manifest"
        listed = await client.post(
            "/api/auth/register",
            json={**body, "deviceId": "ESP-000001", "claimCode": CLAIM_CODE},
        )
        assert listed.status_code == 201


async def test_api_key_is_shown_once_and_replaced_on_reissue(client):
    account = await signed_in(client)
    first = await client.post("/api/devices/ESP-A1B2C3/api-key", headers=account.auth)
    assert first.status_code == 201
    key = first.json()["apiKey"]
    event = {"type": "telemetry", "data": {"temp": 27.5}}
    ok = await client.post("/api/event", json=event, headers={"X-API-Key": key})
    assert ok.status_code == 201
    second = await client.post("/api/devices/ESP-A1B2C3/api-key", headers=account.auth)
    new_key = second.json()["apiKey"]
    assert new_key != key
    assert (
        await client.post("/api/event", json=event, headers={"X-API-Key": key})
    ).status_code == 401
    accepted = await client.post("/api/event", json=event, headers={"X-API-Key": new_key})
    assert accepted.status_code == 201
    other = await signed_in(client, "other", device_id="ESP-000002")
    theirs = await client.post("/api/devices/ESP-A1B2C3/api-key", headers=other.auth)
    assert theirs.status_code == 404


def test_manifest_parser_reports_every_bad_line(tmp_path: Path):
    import pytest

    from pooldesk_server.devices.manifest import ManifestError

    text = "deviceId,claimCode\nESP-000001,ABCDEFGH12345678\nESP-ZZZ,ABCDEFGH12345678\n"
    text += "ESP-000002,short\nESP-000001,ABCDEFGH99999999\n"
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text)
    message = str(caught.value)
    assert "line 3" in message
    assert "line 4" in message
    assert "line 5" in message
    assert "listed twice" in message
    with pytest.raises(ManifestError, match="header"):
        parse_manifest("id,code\nESP-000001,ABCDEFGH12345678\n")


async def test_register_claim_is_reported_once_the_device_is_bound(client):
    await register(client, "alice", device_id="ESP-000001")
    response = await client.post(
        "/api/auth/register",
        json={
            "username": "bob",
            "email": "bob@example.com",
            "password": PASSWORD,
            "deviceId": "ESP-000001",
        },
    )
    assert response.status_code == 409
    # Nothing half-done: bob does not exist.
    login = await client.post("/api/auth/login", json={"username": "bob", "password": PASSWORD})
    assert login.status_code == 401


def test_manifest_claim_codes_need_16_characters():
    import pytest

    from pooldesk.provisioning import claimcode
    from pooldesk_server.devices.manifest import ManifestError

    # What the factory tool makes (16 base32 characters, grouped or not) imports.
    code = claimcode.generate()
    assert len(parse_manifest(f"deviceId,claimCode\nESP-000001,{code}\n")) == 1
    assert len(parse_manifest(f"deviceId,claimCode\nESP-000001,{claimcode.grouped(code)}\n")) == 1
    with pytest.raises(ManifestError) as caught:
        parse_manifest("deviceId,claimCode\nESP-000001,ABCD-EFGH-JKLM-NPQ\n")
    assert "line 2: ESP-000001: claim code missing or shorter than 16 characters" in str(
        caught.value
    )
