"""GET /metrics (POOLDESK_METRICS=1): Prometheus text, per route template, never user names;
JSON log lines (POOLDESK_LOG_FORMAT=json) from a real `serve`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from pooldesk_server.settings import load_settings
from tests.backend.conftest import make_settings, open_client
from tests.backend.helpers import PASSWORD, device_id_for, login, register
from tests.backend.serve import running_serve


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_are_off_by_default(database_url: str, tmp_path: Path):
    assert load_settings({}, data_dir=tmp_path).metrics is False
    async for client in open_client(make_settings(database_url, tmp_path)):
        assert (await client.get("/metrics")).status_code == 404


async def test_metrics_count_routes_sign_ins_and_credentials_without_names(
    database_url: str, tmp_path: Path
):
    settings = make_settings(database_url, tmp_path, metrics=True)
    async for client in open_client(settings):
        alice = await login(client, await register(client, "alice", device_id=device_id_for(7)))
        for device in (device_id_for(7), "ESP-FFFFFF"):
            await client.patch(f"/api/devices/{device}", json={"name": "Pool"}, headers=alice.auth)
        bad = await client.post("/api/auth/login", json={"username": "alice", "password": "nope"})
        assert bad.status_code == 401
        await client.get("/no/such/path/alice")
        scraped = await client.get("/metrics")
        assert scraped.status_code == 200
        assert scraped.headers["content-type"].startswith("text/plain")
        text = scraped.text
        found = samples(text)

        assert value(found, "pooldesk_sign_ins_total", outcome="ok") == 1
        assert value(found, "pooldesk_sign_ins_total", outcome="failed") == 1
        by_template = {
            "route": "/api/devices/{device_id}",
            "method": "PATCH",
        }
        assert value(found, "pooldesk_http_requests_total", status="200", **by_template) == 1
        assert value(found, "pooldesk_http_requests_total", status="404", **by_template) == 1
        assert value(found, "pooldesk_http_request_duration_seconds_count", **by_template) == 2
        assert (
            value(
                found, "pooldesk_http_requests_total", route="unmatched", method="GET", status="404"
            )
            == 1
        )
        assert value(found, "pooldesk_devices", status="offline") == 1
        assert value(found, "pooldesk_component_up", component="database") == 1
        # No user name, device id, token or raw path anywhere in the scrape.
        for secret in ("alice", "ESP-", "esp-", alice.token, PASSWORD, "/no/such"):
            assert secret not in text


async def test_serve_writes_json_log_lines_and_scrapes_broker_state(
    database_url: str, tmp_path: Path
):
    with running_serve(
        database_url, tmp_path, POOLDESK_LOG_FORMAT="json", POOLDESK_METRICS="1"
    ) as serve:
        async with httpx.AsyncClient(base_url=serve.base_url, timeout=30) as http:
            account = await login(http, await register(http, "zed", device_id=device_id_for(8)))
            creds = await http.get("/api/auth/mqtt-credentials", headers=account.auth)
            assert creds.status_code == 200
            deadline = time.monotonic() + 15
            while True:
                found = samples((await http.get("/metrics")).text)
                if value(found, "pooldesk_component_up", component="broker") == 1:
                    break
                assert time.monotonic() < deadline, "broker never reported up"
            assert value(found, "pooldesk_mqtt_credentials_issued_total", kind="dashboard") == 1
            assert value(found, "pooldesk_component_up", component="recorder") == 1
            assert ("pooldesk_recorder_backlog_messages", ()) in found
            assert ("pooldesk_recorder_lag_seconds", ()) in found
    lines = [line for line in serve.output().splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    assert any(
        entry["logger"] == "pooldesk_server.cli" and "serving on" in entry["message"]
        for entry in parsed
    )
    assert all({"ts", "level", "logger", "message"} <= entry.keys() for entry in parsed)


async def test_a_burst_of_failed_sign_ins_is_logged_with_the_account_and_counted(
    database_url: str, tmp_path: Path, caplog
):
    from pooldesk_server.ops.activity import BURST_MIN, check_bursts

    settings = make_settings(database_url, tmp_path, metrics=True)
    async for client in open_client(settings):
        await register(client, "mallory", device_id=device_id_for(9))
        await register(client, "quiet", device_id=device_id_for(10))
        for n in range(BURST_MIN):
            await client.post(
                "/api/auth/login",
                json={"username": "mallory", "password": f"guess-{n}"},
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
            )
        await client.post("/api/auth/login", json={"username": "quiet", "password": "typo"})
        app = client.app
        unusual = app.state.metrics.unusual
        warned: dict[str, float] = {}
        with caplog.at_level("WARNING", logger="backend.activity"):
            reported = await check_bursts(
                app.state.ctx.db,
                warned,
                lambda kind, _n, counter=unusual: counter.labels(kind).inc(),
            )
            assert reported == ["mallory"]
            assert await check_bursts(app.state.ctx.db, warned) == []  # once per window
        assert f"{BURST_MIN} failed sign-ins for account mallory" in caplog.text
        assert "quiet" not in caplog.text
        found = samples((await client.get("/metrics")).text)
        assert value(found, "pooldesk_unusual_activity_total", kind="failed_sign_ins") == 1
