"""Abuse and sign-in (issue 17) against a real `serve` process: a crowd behind a trusted
reverse proxy, credential answers that are never cached, weak secrets and exit codes."""

from __future__ import annotations

import asyncio
import secrets
import signal
import socket
import time
import uuid
from pathlib import Path

import httpx
import pytest

from pooldesk_server.db.engine import Database
from pooldesk_server.db.models import User
from pooldesk_server.db.types import utcnow
from pooldesk_server.security.passwords import Passwords
from tests.backend.helpers import PASSWORD
from tests.backend.serve import running_serve
from tests.backend.test_cli import run_cli
from tests.support.ports import free_port

CROWD = 200


async def _seed_users(database_url: str, count: int) -> list[str]:
    """`count` accounts with PASSWORD, hashed once with the production argon2 parameters (each
    sign-in still verifies it at full cost)."""
    password_hash = await Passwords(memory_kib=19 * 1024, time_cost=2, parallelism=1).hash(PASSWORD)
    names = [f"crowd{n:03d}" for n in range(count)]
    database = Database(database_url)
    try:
        async with database.write() as db:
            for name in names:
                db.add(
                    User(
                        id=str(uuid.uuid4()),
                        username=name,
                        email=f"{name}@example.com",
                        password_hash=password_hash,
                        created_at=utcnow(),
                    )
                )
    finally:
        await database.dispose()
    return names


def _forwarded(n: int) -> dict[str, str]:
    # What a reverse proxy sends: the client's own (spoofable) header, then the address the
    # proxy saw.
    return {"X-Forwarded-For": f"10.66.0.1, 198.18.{n // 250}.{n % 250 + 1}"}


async def test_a_crowd_behind_a_trusted_proxy_signs_in_and_a_guesser_locks_only_itself(
    database_url: str, tmp_path: Path
):
    with running_serve(database_url, tmp_path, POOLDESK_TRUSTED_PROXIES="127.0.0.1") as server:
        names = await _seed_users(server.database_url, CROWD)
        limits = httpx.Limits(max_connections=CROWD)
        async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=120) as http:
            started = time.monotonic()
            answers = await asyncio.gather(
                *(
                    http.post(
                        "/api/auth/login",
                        json={"username": name, "password": PASSWORD},
                        headers=_forwarded(n),
                    )
                    for n, name in enumerate(names)
                )
            )
            elapsed = time.monotonic() - started
            codes: dict[int, int] = {}
            for answer in answers:
                codes[answer.status_code] = codes.get(answer.status_code, 0) + 1
            odd = [a.text[:300] for a in answers if a.status_code != 200][:3]
            # A crowd makes sign-in slower, never broken: no answer is a server error (a busy
            # machine once turned pool and SQLite lock timeouts into 500s here).
            server_errors = sum(n for code, n in codes.items() if code >= 500)
            assert server_errors == 0, f"{codes} in {elapsed:.1f}s: {odd}"
            assert codes == {200: CROWD}, f"{codes} in {elapsed:.1f}s: {odd}"
            assert "database too busy" not in server.output()

            # One forwarded address guesses at many accounts until it is locked ...
            guesser = {"X-Forwarded-For": "192.0.2.66"}
            guesses = [
                (
                    await http.post(
                        "/api/auth/login",
                        json={"username": names[n % 10], "password": "Wrong-Pass-123!"},
                        headers=guesser,
                    )
                ).status_code
                for n in range(24)
            ]
            assert guesses[:21] == [401] * 21, guesses
            assert set(guesses[21:]) == {429}, guesses
            # ... and only it: everyone else behind the same proxy still signs in.
            for n in range(10):
                other = await http.post(
                    "/api/auth/login",
                    json={"username": names[n], "password": PASSWORD},
                    headers={"X-Forwarded-For": f"192.0.2.{100 + n}"},
                )
                assert other.status_code == 200, other.text
            sessions = await http.get(
                "/api/auth/sessions",
                headers={"Authorization": f"Bearer {answers[7].json()['token']}"},
            )
            addresses = {s["clientAddress"] for s in sessions.json()["sessions"]}
            assert "198.18.0.8" in addresses
            assert "10.66.0.1" not in addresses


def _get_on(conn: socket.socket, path: str) -> bytes:
    """One GET on an open connection -> its whole answer (b"" when the server closed it)."""
    conn.sendall(f"GET {path} HTTP/1.1\r\nHost: pooldesk\r\n\r\n".encode())
    answer = b""
    while b"\r\n\r\n" not in answer:
        part = conn.recv(4096)
        if not part:
            return answer
        answer += part
    head, _, body = answer.partition(b"\r\n\r\n")
    length = int(
        next(
            v
            for k, _, v in (h.partition(b":") for h in head.split(b"\r\n"))
            if k.lower() == b"content-length"
        )
    )
    while len(body) < length:
        body += conn.recv(4096)
    return head + b"\r\n\r\n" + body


def test_an_idle_proxy_connection_is_not_closed_under_the_proxy(tmp_path: Path):
    """A reverse proxy reuses an upstream connection it has kept idle (Caddy for up to 2 min):
    the server must not close it first, or the request sent on it fails with a 502."""
    with (
        running_serve("sqlite", tmp_path) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn,
    ):
        assert _get_on(conn, "/livez").startswith(b"HTTP/1.1 200")
        time.sleep(6.5)  # idle past uvicorn's default keep-alive of 5 s
        assert _get_on(conn, "/livez").startswith(b"HTTP/1.1 200")


def _register_body(name: str, device_id: str) -> dict[str, str]:
    return {
        "username": name,
        "email": f"{name}@example.com",
        "password": PASSWORD,
        "deviceId": device_id,
    }


async def test_token_and_credential_answers_are_never_cached(database_url: str, tmp_path: Path):
    with running_serve(database_url, tmp_path) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=60) as http:
            answers = {
                "register": await http.post(
                    "/api/auth/register", json=_register_body("hdr", "ESP-0000A1")
                )
            }
            answers["login"] = await http.post(
                "/api/auth/login", json={"username": "hdr", "password": PASSWORD}
            )
            body = answers["login"].json()
            auth = {"Authorization": f"Bearer {body['token']}"}
            answers["refresh"] = await http.post(
                "/api/auth/refresh", json={"refreshToken": body["refreshToken"]}
            )
            auth = {"Authorization": f"Bearer {answers['refresh'].json()['token']}"}
            answers["mqtt-credentials"] = await http.get("/api/auth/mqtt-credentials", headers=auth)
            answers["device credentials"] = await http.post(
                "/api/devices/ESP-0000A1/credentials", headers=auth
            )
            answers["api-key"] = await http.post("/api/devices/ESP-0000A1/api-key", headers=auth)
            answers["export"] = await http.get("/api/account/export", headers=auth)
            answers["refused"] = await http.post(
                "/api/auth/login", json={"username": "hdr", "password": "nope"}
            )
    for name, answer in answers.items():
        assert answer.status_code in (200, 201, 401), (name, answer.text)
        assert answer.headers.get("cache-control") == "no-store", name
        assert answer.headers.get("x-content-type-options") == "nosniff", name
    assert answers["mqtt-credentials"].status_code == 200, answers["mqtt-credentials"].text
    assert answers["device credentials"].status_code == 200


def test_a_busy_port_is_a_plain_error_before_anything_starts(tmp_path: Path):
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        result = run_cli(
            "serve", "--port", str(port), "--data-dir", str(tmp_path / "data"), cwd=tmp_path
        )
    assert result.returncode == 1, result.stderr
    assert f"error: port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "broker").exists(), "no broker was started for nothing"


def test_sigterm_stops_serve_with_status_0(database_url: str, tmp_path: Path):
    with running_serve(database_url, tmp_path) as server:
        server.process.send_signal(signal.SIGTERM)
        status = server.process.wait(30)
    assert status == 0, server.output()


@pytest.mark.parametrize(("secret", "why"), [("abc", "too short"), ("a" * 32, "too predictable")])
def test_a_weak_jwt_secret_is_refused_in_production_and_warned_about_otherwise(
    tmp_path: Path, secret: str, why: str
):
    refused = run_cli(
        "migrate",
        "--data-dir",
        str(tmp_path / "prod"),
        cwd=tmp_path,
        POOLDESK_ENV="production",
        JWT_SECRET=secret,
    )
    assert refused.returncode == 2
    assert why in refused.stderr
    assert "openssl rand -hex 32" in refused.stderr
    assert secret not in refused.stderr.replace("openssl rand", "")
    warned = run_cli(
        "migrate", "--data-dir", str(tmp_path / "dev"), cwd=tmp_path, JWT_SECRET=secret
    )
    assert warned.returncode == 0, warned.stderr
    assert f"WARNING pooldesk_server.settings: JWT_SECRET is {why}" in warned.stderr
    strong = run_cli(
        "migrate",
        "--data-dir",
        str(tmp_path / "strong"),
        cwd=tmp_path,
        POOLDESK_ENV="production",
        JWT_SECRET=secrets.token_hex(32),
    )
    assert strong.returncode == 0
    assert "JWT_SECRET" not in strong.stderr


def test_production_requires_claim_codes_unless_turned_off(tmp_path: Path):
    from pooldesk_server.settings import load_settings

    strong = secrets.token_hex(32)
    production = {"POOLDESK_ENV": "production", "JWT_SECRET": strong}
    assert load_settings(production, data_dir=tmp_path).require_device_manifest
    off = {**production, "REQUIRE_DEVICE_MANIFEST": "0"}
    assert not load_settings(off, data_dir=tmp_path).require_device_manifest
    assert not load_settings({}, data_dir=tmp_path).require_device_manifest
    assert load_settings(
        {"REQUIRE_DEVICE_MANIFEST": "1"}, data_dir=tmp_path
    ).require_device_manifest
