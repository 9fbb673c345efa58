"""Inputs and stored data that used to give a 500, and the database file's permissions."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from pooldesk_server.db.models import Device, Event
from pooldesk_server.db.types import utcnow
from tests.backend.conftest import make_settings, open_client
from tests.backend.helpers import error_of, signed_in

HUGE = "9" * 5000  # past Python's 4300-digit int() limit


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/api/history?limit=", "limit"),
        ("/api/account/audit?limit=", "limit"),
        ("/api/account/audit?cursor=", "cursor"),
    ],
)
async def test_huge_numbers_in_the_query_are_a_clear_400(client, path: str, name: str):
    account = await signed_in(client)
    for number in (HUGE, "1" + "0" * 25):
        response = await client.get(path + number, headers=account.auth)
        assert response.status_code == 400, response.text
        error = error_of(response)
        assert error["code"] == "validation_error"
        assert error["message"].startswith(f"{name} must be a whole number from 1 to ")


async def _store_raw_rows(ctx, device_id: str, texts: list[str]) -> None:
    """Rows as the recorder stored them before it refused NaN/Infinity."""
    async with ctx.db.write() as db:
        device_pk = await db.scalar(select(Device.id).where(Device.device_id == device_id))
        for n, text in enumerate(texts):
            db.add(
                Event(
                    device_pk=device_pk,
                    type=f"telemetry{n}",
                    ts=utcnow(),
                    received_at=utcnow(),
                    data=text,
                )
            )


async def test_history_and_export_survive_nan_and_infinity_in_stored_rows(client):
    ctx = client.app.state.ctx
    account = await signed_in(client)
    await _store_raw_rows(
        ctx,
        "ESP-A1B2C3",
        ['{"temp":NaN,"ph":Infinity,"orp":-Infinity,"ok":7.2}', "NaN", "not json at all"],
    )
    history = await client.get("/api/history", headers=account.auth)
    assert history.status_code == 200, history.text
    by_type = {e["type"]: e["data"] for e in history.json()["events"]}
    assert by_type == {
        "telemetry0": {"temp": None, "ph": None, "orp": None, "ok": 7.2},
        "telemetry1": None,
        "telemetry2": {"raw": "not json at all"},
    }
    export = await client.get("/api/account/export", headers=account.auth)
    assert export.status_code == 200, export.text
    exported = {e["type"]: e["data"] for e in export.json()["data"]["history"]["ESP-A1B2C3"]}
    assert exported == by_type


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_sqlite_database_is_private_however_the_app_is_created(tmp_path: Path):
    data = tmp_path / "fresh" / "data"
    settings = make_settings(f"sqlite+aiosqlite:///{data / 'pooldesk.db'}", data)
    async for client in open_client(settings):
        await signed_in(client)  # writes, so the WAL files exist too
        assert _mode(data) == 0o700
        for name in ("pooldesk.db", "pooldesk.db-wal", "pooldesk.db-shm"):
            assert _mode(data / name) == 0o600, name


async def test_an_existing_readable_database_file_is_made_private(tmp_path: Path):
    path = tmp_path / "pooldesk.db"
    url = f"sqlite+aiosqlite:///{path}"
    async for _client in open_client(make_settings(url, tmp_path)):
        pass
    path.chmod(0o644)
    async for client in open_client(make_settings(url, tmp_path)):
        assert _mode(path) == 0o600
        assert (await client.get("/healthz")).status_code == 200
