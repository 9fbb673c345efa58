"""Registration, login, refresh rotation, logout, verify, sessions, password change."""

from __future__ import annotations

import asyncio

import jwt

from tests.backend.conftest import open_client
from tests.backend.helpers import PASSWORD, error_of, login, register, signed_in


async def test_register_returns_the_seed_response(client):
    response = await client.post(
        "/api/auth/register",
        json={
            "username": "testuser",
            "email": "test@example.com",
            "password": "SecurePass123!@#",
            "deviceId": "ESP-A1B2C3",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["ok"] is True
    assert body["message"] == "Registration successful"
    assert body["deviceId"] == "ESP-A1B2C3"
    assert body["username"] == "testuser"
    assert len(body["userId"]) == 36


async def test_register_accepts_lower_case_device_id_and_stores_it_upper(client):
    account = await login(client, await register(client, device_id="esp-a1b2c3"))
    devices = (await client.get("/api/devices", headers=account.auth)).json()["devices"]
    assert [d["deviceId"] for d in devices] == ["ESP-A1B2C3"]
    assert devices[0]["topicPrefix"] == "users/testuser/devices/esp-a1b2c3"


async def test_register_names_every_missing_field(client):
    response = await client.post("/api/auth/register", json={"username": "bob"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    for field in ("email", "password"):
        assert field in error["message"]
    assert "deviceId" not in error["message"]  # optional: an account without a controller


async def test_register_rejects_bad_fields_with_actionable_messages(client):
    good = {
        "username": "alice",
        "email": "alice@example.com",
        "password": PASSWORD,
        "deviceId": "ESP-00AA11",
    }
    cases = [
        ({"username": "Al"}, "Username must be 3-32"),
        ({"username": "a/b#c"}, "Username must be 3-32"),
        ({"username": "x" * 33}, "Username must be 3-32"),
        ({"email": "not-an-email"}, "Email address is not valid"),
        ({"deviceId": "ESP-XYZ123"}, "ESP-XXXXXX"),
        ({"deviceId": "ESP-A1B2C3-K9M7L2"}, "ESP-XXXXXX"),
        ({"username": 42}, "username must be a string"),
        ({"password": ["x"]}, "password must be a string"),
    ]
    for change, expected in cases:
        response = await client.post("/api/auth/register", json={**good, **change})
        assert response.status_code == 400, (change, response.text)
        assert expected in error_of(response)["message"], (change, response.text)


async def test_password_rule_names_each_unmet_requirement(client):
    body = {"username": "alice", "email": "a@example.com", "deviceId": "ESP-00AA11"}
    response = await client.post("/api/auth/register", json={**body, "password": "short"})
    message = error_of(response)["message"]
    assert response.status_code == 400
    assert "at least 12 characters" in message
    assert "an uppercase letter" in message
    assert "a number" in message
    assert "a special character" in message
    assert "a lowercase letter" not in message


async def test_common_passwords_are_refused(client):
    body = {"username": "alice", "email": "a@example.com", "deviceId": "ESP-00AA11"}
    for password in ("Password123!", "P@ssw0rd1234!", "Qwerty123456!"):
        response = await client.post("/api/auth/register", json={**body, "password": password})
        assert response.status_code == 400
        assert "too common" in error_of(response)["message"]


async def test_taken_username_and_device_are_conflicts(client):
    await register(client, "alice", device_id="ESP-00AA11")
    # one status and code, two refusals: each has its own reason, and the message as before
    attempts = [
        (
            {"username": "alice", "email": "new@example.com", "deviceId": "ESP-00AA12"},
            "Username already taken",
            "username_taken",
        ),
        (
            {"username": "bob", "email": "bob@example.com", "deviceId": "esp-00aa11"},
            "Device ESP-00AA11 is already registered to another account",
            "device_registered_elsewhere",
        ),
    ]
    for fields, message, reason in attempts:
        response = await client.post("/api/auth/register", json={**fields, "password": PASSWORD})
        assert response.status_code == 409, response.text
        assert error_of(response) == {"code": "conflict", "message": message, "reason": reason}


async def test_login_returns_token_refresh_token_and_user(client):
    account = await register(client)
    response = await client.post(
        "/api/auth/login", json={"username": "testuser", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["expiresIn"] == 3600
    assert body["refreshToken"]
    assert body["token"] != body["refreshToken"]
    assert body["user"] == {
        "id": account.user_id,
        "username": "testuser",
        "email": "testuser@example.com",
        "deviceId": "ESP-A1B2C3",
    }


async def test_access_token_claims_are_complete(client, settings):
    account = await signed_in(client)
    claims = jwt.decode(
        account.token,
        settings.jwt_secret,
        algorithms=["HS256"],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    assert {"iss", "aud", "exp", "iat", "jti", "sub", "sid", "typ"} <= set(claims)
    assert claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == 3600
    refresh = jwt.decode(
        account.refresh_token, settings.jwt_secret, algorithms=["HS256"], audience="pooldesk"
    )
    assert refresh["typ"] == "refresh"
    assert refresh["exp"] - refresh["iat"] == 30 * 24 * 3600


async def test_unknown_user_and_wrong_password_look_the_same(client):
    await register(client)
    wrong = await client.post("/api/auth/login", json={"username": "testuser", "password": "x"})
    unknown = await client.post("/api/auth/login", json={"username": "nobody", "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert error_of(wrong) == error_of(unknown)
    assert error_of(wrong)["message"] == "Invalid username or password"


async def test_failed_logins_are_throttled_per_account_with_retry_after(client):
    await register(client)
    statuses = []
    for _ in range(7):
        response = await client.post(
            "/api/auth/login", json={"username": "testuser", "password": "wrong"}
        )
        statuses.append(response.status_code)
    assert statuses[:6] == [401] * 6  # five free, the sixth fails and locks
    assert statuses[6] == 429
    locked = await client.post(
        "/api/auth/login", json={"username": "testuser", "password": PASSWORD}
    )
    assert locked.status_code == 429, "the right password must wait too while locked"
    assert int(locked.headers["Retry-After"]) >= 1
    assert error_of(locked)["code"] == "rate_limited"
    # Another account from the same address is not locked by this one.
    await register(client, "other", device_id="ESP-000002")
    other = await client.post("/api/auth/login", json={"username": "other", "password": PASSWORD})
    assert other.status_code == 200


async def test_lock_delay_grows_and_expires(client):
    await register(client)
    for _ in range(6):
        await client.post("/api/auth/login", json={"username": "testuser", "password": "wrong"})
    first = await client.post("/api/auth/login", json={"username": "testuser", "password": "w"})
    assert first.status_code == 429
    # the lock runs out in real time: waiting out Retry-After is the behaviour under test
    await asyncio.sleep(int(first.headers["Retry-After"]) + 0.1)
    await client.post("/api/auth/login", json={"username": "testuser", "password": "wrong"})
    second = await client.post("/api/auth/login", json={"username": "testuser", "password": "w"})
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) > int(first.headers["Retry-After"])


async def test_failed_logins_are_throttled_per_client_address(client):
    for n in range(21):  # different (unknown) account names from one address
        response = await client.post(
            "/api/auth/login", json={"username": f"guess{n}", "password": "wrong"}
        )
        assert response.status_code == 401
    blocked = await client.post("/api/auth/login", json={"username": "fresh", "password": "x"})
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers


async def test_refresh_rotates_and_reuse_revokes_the_family(settings):
    # Without a grace window, any reuse of a spent token ends the session.
    async for client in open_client(settings.with_changes(refresh_grace_seconds=0)):
        await _reuse_revokes_the_family(client)


async def _reuse_revokes_the_family(client):
    account = await signed_in(client)
    first = await client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refreshToken"] != account.refresh_token
    assert rotated["sessionId"] == account.session_id
    new_auth = {"Authorization": f"Bearer {rotated['token']}"}
    assert (await client.get("/api/auth/verify", headers=new_auth)).status_code == 200

    reuse = await client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token})
    assert reuse.status_code == 401
    # The whole family is gone: the rotated refresh token and the access tokens too.
    again = await client.post("/api/auth/refresh", json={"refreshToken": rotated["refreshToken"]})
    assert again.status_code == 401
    assert (await client.get("/api/auth/verify", headers=new_auth)).status_code == 401
    assert (await client.get("/api/auth/verify", headers=account.auth)).status_code == 401


async def test_refresh_rejects_garbage_and_access_tokens(client):
    account = await signed_in(client)
    for token in ("garbage", account.token, ""):
        response = await client.post("/api/auth/refresh", json={"refreshToken": token})
        assert response.status_code == 401, token
    missing = await client.post("/api/auth/refresh", json={})
    assert missing.status_code == 400


async def test_refresh_token_is_not_an_access_token(client):
    account = await signed_in(client)
    bearer = {"Authorization": f"Bearer {account.refresh_token}"}
    assert (await client.get("/api/auth/verify", headers=bearer)).status_code == 401


async def test_tokens_with_wrong_algorithm_audience_or_secret_are_refused(client, settings):
    account = await signed_in(client)
    claims = jwt.decode(account.token, options={"verify_signature": False})
    forged = [
        jwt.encode(claims, key=None, algorithm="none"),
        jwt.encode(claims, "another-secret-" + "y" * 40, algorithm="HS256"),
        jwt.encode({**claims, "aud": "someone-else"}, settings.jwt_secret, algorithm="HS256"),
        jwt.encode({**claims, "iss": "evil"}, settings.jwt_secret, algorithm="HS256"),
        jwt.encode({**claims, "exp": claims["iat"] - 10}, settings.jwt_secret, algorithm="HS256"),
        jwt.encode(claims, settings.jwt_secret, algorithm="HS512"),
    ]
    for token in forged:
        response = await client.get(
            "/api/auth/verify", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, token


async def test_verify_returns_the_user_and_session(client):
    account = await signed_in(client)
    response = await client.get("/api/auth/verify", headers=account.auth)
    assert response.status_code == 200
    body = response.json()
    assert body["user"]["username"] == "testuser"
    assert body["user"]["deviceId"] == "ESP-A1B2C3"
    assert body["sessionId"] == account.session_id
    unauth = await client.get("/api/auth/verify")
    assert unauth.status_code == 401
    assert error_of(unauth)["code"] == "unauthorized"


async def test_logout_ends_access_and_refresh_token(client):
    account = await signed_in(client)
    response = await client.post("/api/auth/logout", headers=account.auth)
    assert response.status_code == 200
    assert response.json() == {"ok": True, "message": "Logged out successfully"}
    assert (await client.get("/api/auth/verify", headers=account.auth)).status_code == 401
    refresh = await client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token})
    assert refresh.status_code == 401
    assert (await client.post("/api/auth/logout", headers=account.auth)).status_code == 401


async def test_sessions_are_listed_and_can_be_ended(client):
    account = await signed_in(client)
    laptop = await login(
        client, type(account)(**{**account.__dict__}), **{"User-Agent": "laptop/1.0"}
    )
    listed = (await client.get("/api/auth/sessions", headers=account.auth)).json()["sessions"]
    assert {s["id"] for s in listed} == {account.session_id, laptop.session_id}
    current = [s for s in listed if s["current"]]
    assert [s["id"] for s in current] == [account.session_id]
    assert next(s for s in listed if s["id"] == laptop.session_id)["userAgent"] == "laptop/1.0"

    ended = await client.delete(f"/api/auth/sessions/{laptop.session_id}", headers=account.auth)
    assert ended.status_code == 200
    assert (await client.get("/api/auth/verify", headers=laptop.auth)).status_code == 401
    assert (await client.get("/api/auth/verify", headers=account.auth)).status_code == 200
    again = await client.delete(f"/api/auth/sessions/{laptop.session_id}", headers=account.auth)
    assert again.status_code == 404


async def test_someone_elses_session_cannot_be_ended(client):
    alice = await signed_in(client, "alice", device_id="ESP-000001")
    bob = await signed_in(client, "bob", device_id="ESP-000002")
    response = await client.delete(f"/api/auth/sessions/{bob.session_id}", headers=alice.auth)
    assert response.status_code == 404
    assert (await client.get("/api/auth/verify", headers=bob.auth)).status_code == 200


async def test_password_change_ends_other_sessions_and_keeps_this_one(client):
    account = await signed_in(client)
    other = await login(client, type(account)(**{**account.__dict__}))
    new_password = "Another-Pass-456$"
    response = await client.post(
        "/api/auth/password",
        json={"currentPassword": PASSWORD, "newPassword": new_password},
        headers=account.auth,
    )
    assert response.status_code == 200, response.text
    assert (await client.get("/api/auth/verify", headers=account.auth)).status_code == 200
    assert (await client.get("/api/auth/verify", headers=other.auth)).status_code == 401
    old = await client.post("/api/auth/login", json={"username": "testuser", "password": PASSWORD})
    assert old.status_code == 401
    new = await client.post(
        "/api/auth/login", json={"username": "testuser", "password": new_password}
    )
    assert new.status_code == 200


async def test_password_change_failures(client):
    account = await signed_in(client)
    wrong = await client.post(
        "/api/auth/password",
        json={"currentPassword": "nope", "newPassword": "Another-Pass-456$"},
        headers=account.auth,
    )
    assert wrong.status_code == 403
    assert error_of(wrong) == {
        "code": "forbidden",
        "message": "Current password is incorrect",
        "reason": "wrong_password",
    }
    weak = await client.post(
        "/api/auth/password",
        json={"currentPassword": PASSWORD, "newPassword": "weak"},
        headers=account.auth,
    )
    assert weak.status_code == 400
    assert "at least 12 characters" in error_of(weak)["message"]
    same = await client.post(
        "/api/auth/password",
        json={"currentPassword": PASSWORD, "newPassword": PASSWORD},
        headers=account.auth,
    )
    assert same.status_code == 400
    anonymous = await client.post(
        "/api/auth/password", json={"currentPassword": PASSWORD, "newPassword": "x"}
    )
    assert anonymous.status_code == 401


async def test_refresh_extends_the_session(client):
    from sqlalchemy import select

    from pooldesk_server.db.models import Session

    account = await signed_in(client)
    ctx = client.app.state.ctx
    async with ctx.db.read() as db:
        before = await db.scalar(select(Session.expires_at))
    await asyncio.sleep(0.01)  # the clock moves on, so an extended expiry is later, not equal
    response = await client.post("/api/auth/refresh", json={"refreshToken": account.refresh_token})
    assert response.status_code == 200
    async with ctx.db.read() as db:
        after = await db.scalar(select(Session.expires_at))
    assert after > before
