"""Small helpers the backend tests share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "SecurePass123!@#"


@dataclass
class Account:
    username: str
    email: str
    password: str
    device_id: str
    user_id: str = ""
    token: str = ""
    refresh_token: str = ""
    session_id: str = ""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def device_id_for(n: int) -> str:
    return f"ESP-{n:06X}"


async def register(
    client: httpx.AsyncClient,
    username: str = "testuser",
    *,
    email: str | None = None,
    password: str = PASSWORD,
    device_id: str = "ESP-A1B2C3",
    **extra: Any,
) -> Account:
    account = Account(username, email or f"{username}@example.com", password, device_id)
    response = await client.post(
        "/api/auth/register",
        json={
            "username": account.username,
            "email": account.email,
            "password": account.password,
            "deviceId": account.device_id,
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    account.user_id = response.json()["userId"]
    return account


async def login(client: httpx.AsyncClient, account: Account, **headers: str) -> Account:
    response = await client.post(
        "/api/auth/login",
        json={"username": account.username, "password": account.password},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    account.token = body["token"]
    account.refresh_token = body["refreshToken"]
    account.session_id = body["sessionId"]
    return account


async def signed_in(
    client: httpx.AsyncClient, username: str = "testuser", **kwargs: Any
) -> Account:
    return await login(client, await register(client, username, **kwargs))


def error_of(response: httpx.Response) -> dict[str, str]:
    body = response.json()
    assert body["ok"] is False, body
    assert set(body["error"]) >= {"code", "message"}, body
    return body["error"]
