"""Who has access, what waits in the inbox, and set-up code text: the Qt-free rules behind the
People window, the inbox badge and the set-up code screen (docs/sharing.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from pooldesk.core import api_types as api
from pooldesk.core import setup_codes
from pooldesk.core.backend_client import BackendClient
from pooldesk.core.failures import Code, failure
from pooldesk.core.models import Share, Transfer
from pooldesk.core.people import People, TransferStage, transfer_stage

T0 = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def decoded(model, answer_type, body: dict):
    """A body as the server sends it, read the way BackendClient reads it."""
    return model.from_api(msgspec.json.decode(msgspec.json.encode(body), type=answer_type))


def share(member: str, device: str | None, status: str = "active", **kw) -> Share:
    return decoded(Share, api.Share,
        {"id": f"s-{member}-{device}", "owner": kw.get("owner", "alice"), "member": member,
         "deviceId": device, "role": kw.get("role", "viewer"), "status": status,
         "createdAt": "2026-12-06T10:00:00Z",
         "acceptedAt": "2026-12-06T11:00:00Z" if status == "active" else None}
    )  # fmt: skip


def transfer(status: str, *, frm: str = "alice", to: str = "bob", reason=None) -> Transfer:
    return decoded(Transfer, api.Transfer,
        {"id": f"t-{status}", "deviceId": "ESP-A1B2C3", "from": frm, "to": to,
         "history": "keep", "status": status, "reason": reason,
         "createdAt": "2026-12-06T10:00:00Z", "updatedAt": "2026-12-06T10:05:00Z"}
    )  # fmt: skip


@pytest.fixture
async def people():
    client = BackendClient("http://127.0.0.1:9")  # never called: the answers are set below
    yield People(client, "alice")
    await client.aclose()


async def test_a_devices_people_include_shares_over_all_devices(people) -> None:
    people.given = [
        share("carol", "ESP-A1B2C3", status="pending"),
        share("bob", "esp-a1b2c3", role="operator"),
        share("dave", None),
        share("erin", "ESP-FFFFFF"),
    ]
    rows = people.access("ESP-A1B2C3")
    assert [(r.member, r.role, r.pending, r.all_devices) for r in rows] == [
        ("bob", "operator", False, False),
        ("dave", "viewer", False, True),
        ("carol", "viewer", True, False),
    ]
    assert rows[0].since == datetime(2026, 12, 6, 11, 0, tzinfo=UTC)  # accepted, not invited
    assert rows[2].since == datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


async def test_the_badge_counts_only_what_waits_for_an_answer(people) -> None:
    people.received = [
        share("alice", None, status="pending", owner="zoe"),
        share("alice", "ESP-B2C3D4", owner="yan"),
    ]
    people.incoming = [
        transfer("offered", frm="zoe", to="alice"),
        transfer("moving", frm="yan", to="alice", reason="device_offline"),
    ]
    assert people.waiting == 2
    assert [t.status for t in people.moving_to_me()] == ["moving"]
    assert people.open_transfer("esp-a1b2c3") is not None


def test_transfer_stages_as_each_side_reads_them() -> None:
    assert transfer_stage(transfer("offered"), "alice") is TransferStage.OFFERED_BY_ME
    assert transfer_stage(transfer("offered"), "bob") is TransferStage.OFFERED_TO_ME
    assert transfer_stage(transfer("moving"), "alice") is TransferStage.MOVING
    offline = transfer("moving", reason="device_offline")
    assert transfer_stage(offline, "bob") is TransferStage.WAITING_FOR_DEVICE
    assert transfer_stage(transfer("failed", reason="refused"), "alice") is TransferStage.FAILED
    assert not transfer("done").open


def test_set_up_codes_read_as_the_server_reads_them() -> None:
    assert setup_codes.normalize("7qk2-m4xd-9trb") == "7QK2M4XD9TRB"
    assert setup_codes.normalize(" 7QK2 M4XD 9TRB ") == "7QK2M4XD9TRB"
    assert setup_codes.normalize("POOLDESK-SETUP:7QK2-M4XD-9TRB") == "7QK2M4XD9TRB"
    assert setup_codes.normalize("7QK2-M4XD-9TRO") == "7QK2M4XD9TR0"  # O read as 0
    assert setup_codes.normalize("IL00-0000-0000") == "110000000000"
    assert setup_codes.qr_text("7qk2m4xd9trb") == "POOLDESK-SETUP:7QK2-M4XD-9TRB"
    with pytest.raises(setup_codes.InvalidSetupCode, match="has 12 letters") as short:
        setup_codes.normalize("7QK2-M4XD")
    assert short.value.failure == failure(Code.SETUP_CODE_LENGTH, length=12, count=8)
    with pytest.raises(setup_codes.InvalidSetupCode, match="characters: U") as wrong:
        setup_codes.normalize("7QK2-M4XD-9TRU")  # U is not Crockford base32
    assert wrong.value.failure == failure(Code.SETUP_CODE_CHARACTERS, characters="U")
    with pytest.raises(setup_codes.InvalidSetupCode) as empty:
        setup_codes.normalize(" - ")
    assert empty.value.failure == failure(Code.SETUP_CODE_EMPTY)
    assert setup_codes.seconds_left(T0 + timedelta(minutes=15), T0) == 900
    assert setup_codes.seconds_left(T0 - timedelta(seconds=1), T0) == 0


def test_the_qr_code_carries_the_prefixed_text() -> None:
    import segno

    text = setup_codes.qr_text("7QK2M4XD9TRB")
    modules = setup_codes.qr_modules(text)
    reference = segno.make_qr(text, error="m")
    assert len(modules) == len(modules[0]) == reference.symbol_size(border=0)[0]
    assert modules == [[bool(c) for c in row] for row in reference.matrix]
