"""Operator commands against a real `serve` (managed Mosquitto): `users list|show|disable|enable`,
`devices list`, `sessions revoke`, `activity`; a disabled user's live MQTT connections are cut."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from pooldesk_server.db.engine import Database
from pooldesk_server.ops.activity import BURST_MIN, check_bursts
from tests.backend.helpers import PASSWORD, device_id_for, error_of, login, register
from tests.backend.serve import Serve, running_serve
from tests.backend.test_cli import run_cli
from tests.broker.probe import Probe
from tests.support.waiting import wait_until

CUT_WITHIN_S = 10.0


def operator(serve: Serve, *args: str) -> str:
    env = {"DATABASE_URL": serve.database_url} if serve.database_url.startswith("postgres") else {}
    result = run_cli(*args, "--data-dir", str(serve.data_dir), cwd=serve.data_dir.parent, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def probe_of(creds: dict) -> Probe:
    port = int(creds["brokerUrl"].rsplit(":", 1)[1])
    return Probe(port, creds["mqttUser"], creds["mqttPassword"], creds["clientId"])


async def _status_of(http: httpx.AsyncClient, user, device_id: str) -> bool:
    devices = (await http.get("/api/devices", headers=user.auth)).json()["devices"]
    return any(d["deviceId"] == device_id and d["status"] == "online" for d in devices)


async def _connected(creds: dict) -> Probe:
    probe = probe_of(creds)
    assert await probe.connect() == 0
    return probe


async def test_a_disabled_user_is_cut_off_at_once_and_can_come_back(
    database_url: str, tmp_path: Path
):
    with running_serve(database_url, tmp_path) as serve:
        async with httpx.AsyncClient(base_url=serve.base_url, timeout=30) as http:
            alice = await login(http, await register(http, "alice", device_id=device_id_for(1)))
            bob = await login(http, await register(http, "bob", device_id=device_id_for(2)))
            dash = (await http.get("/api/auth/mqtt-credentials", headers=alice.auth)).json()
            device = (
                await http.post(f"/api/devices/{alice.device_id}/credentials", headers=alice.auth)
            ).json()
            bob_dash = (await http.get("/api/auth/mqtt-credentials", headers=bob.auth)).json()
            probes = [await _connected(dash), await _connected(device)]
            bystander = await _connected(bob_dash)

            listed = operator(serve, "users", "list")
            assert "alice" in listed
            assert "bob" in listed
            assert "active" in listed
            shown = operator(serve, "users", "show", "alice")
            assert device_id_for(1) in shown
            assert dash["mqttUser"] in shown

            started = time.monotonic()
            said = operator(serve, "users", "disable", "alice")
            committed = time.monotonic()
            assert "disabled alice" in said
            assert "1 session(s)" in said
            assert "2 MQTT login(s)" in said
            for probe in probes:
                assert await probe.wait_disconnected(CUT_WITHIN_S), "live MQTT connection kept"
            now = time.monotonic()
            print(
                f"disable: connections cut {now - committed:.2f} s after the command returned "
                f"({now - started:.2f} s after it was started)"
            )
            assert not bystander.disconnected.is_set()

            # Neither the old logins nor the old token nor the device's API key work.
            assert await probe_of(dash).connect() != 0
            old_token = await http.get("/api/devices", headers=alice.auth)
            assert old_token.status_code == 401
            refused = await http.post(
                "/api/auth/login", json={"username": "alice", "password": PASSWORD}
            )
            assert refused.status_code == 403
            assert error_of(refused)["code"] == "account_disabled"
            assert "disabled" in error_of(refused)["message"]
            wrong = await http.post(
                "/api/auth/login", json={"username": "alice", "password": PASSWORD + "x"}
            )
            assert wrong.status_code == 401  # the state is told only to who knows the password
            by_key = await http.post(
                "/api/event",
                headers={"X-API-Key": device["apiKey"]},
                json={"type": "telemetry", "data": {"ph": 7.2}},
            )
            assert by_key.status_code == 403, by_key.text
            assert (
                "disabled" in operator(serve, "users", "list").split("alice", 1)[1].split("\n")[0]
            )

            assert "enabled alice" in operator(serve, "users", "enable", "alice")
            again = await login(http, alice)
            assert (await http.get("/api/devices", headers=again.auth)).status_code == 200

            # sessions revoke: the session and its dashboard login end; the account stays.
            fresh = (await http.get("/api/auth/mqtt-credentials", headers=again.auth)).json()
            live = await _connected(fresh)
            said = operator(serve, "sessions", "revoke", "alice")
            assert "revoked 1 session(s)" in said
            assert await live.wait_disconnected(CUT_WITHIN_S)
            assert (await http.get("/api/devices", headers=again.auth)).status_code == 401
            await login(http, alice)
            for probe in (*probes, bystander, live):
                probe.close()


async def test_devices_list_and_clear_errors(database_url: str, tmp_path: Path):
    with running_serve(database_url, tmp_path) as serve:
        async with httpx.AsyncClient(base_url=serve.base_url, timeout=30) as http:
            carol = await login(http, await register(http, "carol", device_id=device_id_for(3)))
            assert operator(serve, "devices", "list", "--online").strip() == "no devices online"
            listed = operator(serve, "devices", "list")
            assert device_id_for(3) in listed
            assert "carol" in listed
            assert "offline" in listed
            # The device connects and says it is online; the recorder stores that.
            creds = (
                await http.post(f"/api/devices/{carol.device_id}/credentials", headers=carol.auth)
            ).json()
            board = await _connected(creds)
            await board.publish(f"{creds['topicPrefix']}/status", "online", retain=True)
            # Waited for through the API (each `operator` call starts a process, seconds on a busy
            # machine), then listed by the command once.
            await wait_until(
                lambda: _status_of(http, carol, device_id_for(3)), within=10, what="recorded online"
            )
            assert device_id_for(3) in operator(serve, "devices", "list", "--online")
            board.close()
        env = {"DATABASE_URL": serve.database_url} if database_url.startswith("postgres") else {}
        unknown = run_cli(
            "users", "disable", "nobody", "--data-dir", str(serve.data_dir), cwd=tmp_path, **env
        )
        assert unknown.returncode == 1
        assert "no user named 'nobody'" in unknown.stderr


async def test_activity_lists_failed_sign_ins_per_account(
    database_url: str, tmp_path: Path, caplog
):
    with running_serve(database_url, tmp_path) as serve:
        async with httpx.AsyncClient(base_url=serve.base_url, timeout=30) as http:
            await register(http, "dave", device_id=device_id_for(4))
            for _ in range(3):
                wrong = await http.post(
                    "/api/auth/login", json={"username": "dave", "password": "not-it-at-all"}
                )
                assert wrong.status_code == 401
            await http.post("/api/auth/login", json={"username": "ghost", "password": "whatever1"})
            # A refused MQTT login (Mosquitto names only the address it came from).
            creds = {
                "brokerUrl": (
                    await http.get(
                        "/api/auth/mqtt-credentials",
                        headers=(
                            await login(
                                http, await register(http, "erin", device_id=device_id_for(5))
                            )
                        ).auth,
                    )
                ).json()["brokerUrl"],
                "mqttUser": "dev-esp-000004",
                "mqttPassword": "wrong",
                "clientId": "dev-esp-000004",
            }
            for _ in range(BURST_MIN):
                assert await probe_of(creds).connect() != 0
        deadline = time.monotonic() + 10
        while f"127.0.0.1  {BURST_MIN}" not in (shown := operator(serve, "activity")):
            assert time.monotonic() < deadline, shown  # the broker logs a moment after refusing
            await asyncio.sleep(0.3)
        lines = shown.splitlines()
        assert any(line.split() == ["dave", "3"] for line in lines), shown
        assert any(line.split() == ["(no", "such", "account)", "1"] for line in lines), shown
        assert any(line.split() == ["127.0.0.1", str(BURST_MIN)] for line in lines), shown
        assert "erin" not in shown
        quiet = operator(serve, "activity", "--min", str(BURST_MIN + 1))
        assert quiet.strip() == "no unusual activity in the last 24 h"

        # What a running server logs: the burst of refused MQTT logins, with the address.
        database = Database(serve.database_url)
        try:
            with caplog.at_level("WARNING", logger="backend.activity"):
                reported = await check_bursts(
                    database, {}, None, serve.data_dir / "broker" / "mosquitto.log"
                )
        finally:
            await database.dispose()
        assert "mqtt:127.0.0.1" in reported
        assert f"{BURST_MIN} refused MQTT logins from 127.0.0.1" in caplog.text
