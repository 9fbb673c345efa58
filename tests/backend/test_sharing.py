"""Household sharing over HTTP (docs/sharing.md): accounts without a controller, invitations,
roles enforced on devices, history and events, each refusal beside its legitimate twin."""

from __future__ import annotations

import asyncio
import re

import httpx

from tests.backend.helpers import PASSWORD, Account, error_of, login, signed_in

DEVICE = "ESP-A1B2C3"
OTHER = "ESP-A1B2C4"


async def _no_device_account(client: httpx.AsyncClient, username: str) -> Account:
    answer = await client.post(
        "/api/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["deviceId"] is None
    account = Account(username, f"{username}@example.com", PASSWORD, "")
    account.user_id = answer.json()["userId"]
    return await login(client, account)


async def _owner(client: httpx.AsyncClient) -> Account:
    alice = await signed_in(client, "alice", device_id=DEVICE)
    added = await client.post("/api/devices", json={"deviceId": OTHER}, headers=alice.auth)
    assert added.status_code == 201, added.text
    return alice


async def _share(
    client: httpx.AsyncClient, owner: Account, member: Account, role: str, device: str | None
) -> str:
    body = {"username": member.username, "role": role}
    if device is not None:
        body["deviceId"] = device
    offered = await client.post("/api/shares", json=body, headers=owner.auth)
    assert offered.status_code == 201, offered.text
    share = offered.json()["share"]
    assert share["status"] == "pending"
    assert share["acceptedAt"] is None
    accepted = await client.post(f"/api/shares/{share['id']}/accept", headers=member.auth)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["share"]["status"] == "active"
    return share["id"]


async def test_an_account_without_a_controller_signs_in_and_has_no_devices(client):
    bob = await _no_device_account(client, "bob")
    verify = await client.get("/api/auth/verify", headers=bob.auth)
    assert verify.json()["user"]["deviceId"] is None
    assert (await client.get("/api/devices", headers=bob.auth)).json()["devices"] == []
    # The seed's body (with a deviceId) still registers the device as the first one.
    alice = await signed_in(client, "alice", device_id=DEVICE)
    listed = (await client.get("/api/devices", headers=alice.auth)).json()["devices"]
    assert [(d["deviceId"], d["owner"], d["role"]) for d in listed] == [(DEVICE, "alice", "owner")]


async def test_a_viewer_sees_the_device_and_its_history_but_cannot_change_it(client):
    alice = await _owner(client)
    bob = await _no_device_account(client, "bob")
    posted = await client.post(
        "/api/event",
        json={"deviceId": DEVICE, "type": "pump", "data": {"on": True}},
        headers=alice.auth,
    )
    assert posted.status_code == 201

    # Before the share (and while it is pending): no hint the device exists.
    for path in (f"/api/devices/{DEVICE}", f"/api/history?deviceId={DEVICE}"):
        refused = await client.get(path, headers=bob.auth)
        assert refused.status_code == 404
        assert error_of(refused)["message"] == f"Device {DEVICE} not found"

    await _share(client, alice, bob, "viewer", DEVICE)

    listed = (await client.get("/api/devices", headers=bob.auth)).json()["devices"]
    assert [(d["deviceId"], d["owner"], d["role"], d["topicPrefix"]) for d in listed] == [
        (DEVICE, "alice", "viewer", "users/alice/devices/esp-a1b2c3")
    ]
    history = await client.get(f"/api/history?deviceId={DEVICE}", headers=bob.auth)
    assert history.status_code == 200
    assert [e["data"] for e in history.json()["events"]] == [{"on": True}]

    # Owner-only actions: 403 for the viewer, done for the owner.
    renamed = await client.patch(f"/api/devices/{DEVICE}", json={"name": "X"}, headers=bob.auth)
    assert renamed.status_code == 403
    assert error_of(renamed)["message"] == f"Only the owner of {DEVICE} can do this"
    assert error_of(renamed)["reason"] == "owner_only"
    for method, path in (
        ("DELETE", f"/api/devices/{DEVICE}"),
        ("POST", f"/api/devices/{DEVICE}/api-key"),
    ):
        assert (await client.request(method, path, headers=bob.auth)).status_code == 403
    assert (
        await client.patch(f"/api/devices/{DEVICE}", json={"name": "Pool"}, headers=alice.auth)
    ).status_code == 200

    # Posting an event: a viewer may not, the owner may.
    event = {"deviceId": DEVICE, "type": "note"}
    refused = await client.post("/api/event", json=event, headers=bob.auth)
    assert refused.status_code == 403
    assert (await client.post("/api/event", json=event, headers=alice.auth)).status_code == 201

    # The owner's other device stays out of reach.
    assert (await client.get(f"/api/devices/{OTHER}", headers=bob.auth)).status_code == 404
    assert (await client.get(f"/api/history?deviceId={OTHER}", headers=bob.auth)).status_code == 404


async def test_an_operator_posts_events_and_a_role_change_takes_it_back(client):
    alice = await _owner(client)
    bob = await _no_device_account(client, "bob")
    share_id = await _share(client, alice, bob, "operator", None)  # all of alice's devices
    event = {"deviceId": OTHER, "type": "note"}
    assert (await client.post("/api/event", json=event, headers=bob.auth)).status_code == 201
    listed = (await client.get("/api/devices", headers=bob.auth)).json()["devices"]
    assert {(d["deviceId"], d["role"]) for d in listed} == {
        (DEVICE, "operator"),
        (OTHER, "operator"),
    }

    # Only the owner changes the role.
    by_member = await client.patch(
        f"/api/shares/{share_id}", json={"role": "viewer"}, headers=bob.auth
    )
    assert by_member.status_code == 403
    changed = await client.patch(
        f"/api/shares/{share_id}", json={"role": "viewer"}, headers=alice.auth
    )
    assert changed.status_code == 200
    assert changed.json()["share"]["role"] == "viewer"
    assert (await client.post("/api/event", json=event, headers=bob.auth)).status_code == 403


async def test_invitations_are_refused_clearly(client):
    alice = await _owner(client)
    bob = await _no_device_account(client, "bob")
    carol = await signed_in(client, "carol", device_id="ESP-C00001")

    async def offer(body: dict, who: Account = alice) -> httpx.Response:
        return await client.post("/api/shares", json=body, headers=who.auth)

    bad_role = await offer({"username": "bob", "role": "admin"})
    assert bad_role.status_code == 400
    assert "operator or viewer" in error_of(bad_role)["message"]
    assert (await offer({"username": "alice", "role": "viewer"})).status_code == 400
    nobody = await offer({"username": "nobody", "role": "viewer"})
    assert nobody.status_code == 404
    assert error_of(nobody)["message"] == "No account named nobody"
    not_hers = await offer({"username": "bob", "role": "viewer", "deviceId": "ESP-C00001"})
    assert not_hers.status_code == 404
    # Carol shares her own device: fine.
    assert (
        await offer({"username": "bob", "role": "viewer", "deviceId": "ESP-C00001"}, carol)
    ).status_code == 201

    assert (await offer({"username": "bob", "role": "operator"})).status_code == 201  # all devices
    again = await offer({"username": "bob", "role": "viewer", "deviceId": DEVICE})
    assert again.status_code == 409
    assert error_of(again)["message"] == f"bob already has access to {DEVICE}"
    assert error_of(again)["reason"] == "already_shared"

    inbox = (await client.get("/api/shares", headers=bob.auth)).json()
    assert {(s["owner"], s["status"]) for s in inbox["received"]} == {
        ("alice", "pending"),
        ("carol", "pending"),
    }
    given = (await client.get("/api/shares", headers=alice.auth)).json()["given"]
    (share,) = given
    # Only the member accepts.
    assert (
        await client.post(f"/api/shares/{share['id']}/accept", headers=alice.auth)
    ).status_code == 404
    assert (
        await client.post(f"/api/shares/{share['id']}/accept", headers=bob.auth)
    ).status_code == 200


async def test_either_side_ends_a_share_and_access_goes_at_once(client):
    alice = await _owner(client)
    bob = await _no_device_account(client, "bob")
    for ender in ("bob", "alice"):
        share_id = await _share(client, alice, bob, "viewer", DEVICE)
        assert (await client.get(f"/api/devices/{DEVICE}", headers=bob.auth)).status_code == 200
        who = bob if ender == "bob" else alice
        ended = await client.delete(f"/api/shares/{share_id}", headers=who.auth)
        assert ended.status_code == 200
        assert ended.json()["message"] == "Access ended"
        assert (await client.get(f"/api/devices/{DEVICE}", headers=bob.auth)).status_code == 404
    entries = (await client.get("/api/account/audit", headers=bob.auth)).json()["entries"]
    events = [e["event"] for e in entries]
    assert events.count("share_offered") == 2
    assert events.count("share_ended") == 2
    assert "share_accepted" in events
    exported = (await client.get("/api/account/export", headers=bob.auth)).json()["data"]
    assert exported["shares"] == {"given": [], "received": []}  # ended: nothing left
    owner_events = {
        e["event"]
        for e in (await client.get("/api/account/audit", headers=alice.auth)).json()["entries"]
    }
    assert {"share_offered", "share_accepted", "share_ended"} <= owner_events


async def test_a_deleted_account_takes_its_shares_both_ways(client):
    alice = await _owner(client)
    bob = await _no_device_account(client, "bob")
    carol = await signed_in(client, "carol", device_id="ESP-C00001")
    await _share(client, alice, bob, "viewer", DEVICE)  # alice gives
    await _share(client, carol, alice, "operator", None)  # alice receives
    deleted = await client.request(
        "DELETE", "/api/account", json={"password": PASSWORD}, headers=alice.auth
    )
    assert deleted.status_code == 200
    assert (await client.get("/api/shares", headers=bob.auth)).json()["received"] == []
    assert (await client.get("/api/shares", headers=carol.auth)).json()["given"] == []
    assert (await client.get("/api/devices", headers=bob.auth)).json()["devices"] == []


async def test_a_removed_device_takes_its_shares(client):
    alice = await _owner(client)
    bob = await _no_device_account(client, "bob")
    await _share(client, alice, bob, "viewer", DEVICE)
    await _share(client, alice, bob, "operator", OTHER)
    assert (await client.delete(f"/api/devices/{DEVICE}", headers=alice.auth)).status_code == 200
    received = (await client.get("/api/shares", headers=bob.auth)).json()["received"]
    assert [s["deviceId"] for s in received] == [OTHER]
    listed = (await client.get("/api/devices", headers=bob.auth)).json()["devices"]
    assert [d["deviceId"] for d in listed] == [OTHER]
    exported = (await client.get("/api/account/export", headers=bob.auth)).json()["data"]
    assert [(s["owner"], s["deviceId"]) for s in exported["shares"]["received"]] == [
        ("alice", OTHER)
    ]


async def test_an_installer_sets_up_the_owners_device_and_keeps_no_access(client):
    alice = await _owner(client)
    ian = await _no_device_account(client, "ian")
    made = await client.post("/api/setup-codes", headers=alice.auth)
    assert made.status_code == 201, made.text
    code = made.json()["setupCode"]["code"]
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}", code)
    listed = (await client.get("/api/setup-codes", headers=alice.auth)).json()["setupCodes"]
    assert [c["id"] for c in listed] == [made.json()["setupCode"]["id"]]
    assert "code" not in listed[0]

    new = "ESP-123456"
    wrong = await client.post(
        "/api/devices", json={"deviceId": new, "setupCode": "0000-0000-0000"}, headers=ian.auth
    )
    assert wrong.status_code == 403
    assert error_of(wrong)["message"] == (
        "That set-up code is wrong or has expired; ask the owner for a new one"
    )
    assert error_of(wrong)["reason"] == "wrong_setup_code"
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")  # as typed
    added = await client.post(
        "/api/devices", json={"deviceId": new, "setupCode": typed}, headers=ian.auth
    )
    assert added.status_code == 201, added.text
    device = added.json()["device"]
    assert (device["owner"], device["role"]) == ("alice", "installer")
    assert device["topicPrefix"] == "users/alice/devices/esp-123456"
    spent = await client.post(
        "/api/devices", json={"deviceId": "ESP-123457", "setupCode": code}, headers=ian.auth
    )
    assert spent.status_code == 403  # single use

    # The owner has it; the installer may read it during the grant, but not change it.
    owned = (await client.get("/api/devices", headers=alice.auth)).json()["devices"]
    assert new in [d["deviceId"] for d in owned]
    assert (await client.get("/api/devices", headers=ian.auth)).json()["devices"] == []
    assert (await client.get(f"/api/devices/{new}", headers=ian.auth)).status_code == 200
    renamed = await client.patch(f"/api/devices/{new}", json={"name": "x"}, headers=ian.auth)
    assert renamed.status_code == 404
    assert (await client.get(f"/api/history?deviceId={new}", headers=ian.auth)).status_code == 404

    ended = await client.delete(f"/api/devices/{new}/setup-grant", headers=ian.auth)
    assert ended.status_code == 200
    assert (await client.get(f"/api/devices/{new}", headers=ian.auth)).status_code == 404
    assert (await client.get(f"/api/devices/{new}", headers=alice.auth)).status_code == 200
    audit = (await client.get("/api/account/audit", headers=alice.auth)).json()["entries"]
    (set_up,) = [e for e in audit if e["event"] == "device_set_up_by"]
    assert set_up["detail"]["installer"] == "ian"
    assert set_up["detail"]["deviceId"] == new


async def test_at_most_five_live_set_up_codes(client):
    alice = await _owner(client)
    made = [await client.post("/api/setup-codes", headers=alice.auth) for _ in range(5)]
    assert all(m.status_code == 201 for m in made)
    sixth = await client.post("/api/setup-codes", headers=alice.auth)
    assert sixth.status_code == 409
    first = made[0].json()["setupCode"]
    assert (
        await client.delete(f"/api/setup-codes/{first['id']}", headers=alice.auth)
    ).status_code == 200
    assert (await client.post("/api/setup-codes", headers=alice.auth)).status_code == 201
    # A deleted code no longer works.
    ian = await _no_device_account(client, "ian")
    refused = await client.post(
        "/api/devices",
        json={"deviceId": "ESP-123456", "setupCode": first["code"]},
        headers=ian.auth,
    )
    assert refused.status_code == 403


async def test_a_set_up_code_serves_one_of_two_racing_installers(client):
    alice = await _owner(client)
    ian, ivy = await _no_device_account(client, "ian"), await _no_device_account(client, "ivy")
    code = (await client.post("/api/setup-codes", headers=alice.auth)).json()["setupCode"]["code"]
    answers = await asyncio.gather(
        *(
            client.post(
                "/api/devices", json={"deviceId": device, "setupCode": code}, headers=who.auth
            )
            for who, device in ((ian, "ESP-123456"), (ivy, "ESP-123457"))
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 403]
    owned = (await client.get("/api/devices", headers=alice.auth)).json()["devices"]
    assert len([d for d in owned if d["deviceId"] in ("ESP-123456", "ESP-123457")]) == 1
