"""Releases and updates in the database: storing a signed bundle, starting an update, showing
its progress. The transport to the unit is `transport.py`; the loop that runs it `extension.py`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol, get_args

from sqlalchemy import Select, String, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.functions import FunctionElement

from pooldesk.core import api_types as api
from pooldesk_contract.refusals import Reason
from pooldesk_firmware.tools.release import Bundle, ReleaseError, parse_public, read_bundle, verify
from pooldesk_firmware.tools.release import version_key as _version_key
from pooldesk_server.db.models import Device, Event, FirmwareRelease, FirmwareUpdate
from pooldesk_server.db.types import utcnow
from pooldesk_server.timefmt import iso

# Every state an update goes through (docs/updates.md); the last three end it.
STATES: tuple[str, ...] = get_args(api.UpdateState)
FINAL = ("confirmed", "rolled_back", "failed")
MAX_BUNDLE_BYTES = 4 * 1024 * 1024


class DeviceKey(Protocol):
    """A Device, or a Core row carrying its primary key (the device list's lean read)."""

    @property
    def id(self) -> str: ...


class FirmwareError(Exception):
    """Refused; the message says what to do. `status` is the HTTP status it maps to, `reason`
    the error body's finer code (docs/backend.md), where one status has several meanings."""

    def __init__(self, message: str, status: int = 400, reason: Reason | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


def version_key(text: str) -> tuple[int, ...]:
    try:
        return _version_key(text)
    except ReleaseError:
        return ()


def check_bundle(data: bytes, public_key_hex: str) -> Bundle:
    """A bundle the operator's key signed, or FirmwareError saying why not."""
    if not public_key_hex:
        raise FirmwareError(
            "no update key configured: set POOLDESK_OTA_PUBLIC_KEY to the hex public key "
            "made by `pooldesk-release keygen`"
        )
    if len(data) > MAX_BUNDLE_BYTES:
        raise FirmwareError(f"the bundle is larger than {MAX_BUNDLE_BYTES} bytes", 413)
    try:
        key = parse_public(public_key_hex)
        bundle = read_bundle(data)
    except ReleaseError as e:
        raise FirmwareError(str(e)) from None
    if not verify(bundle, key):
        raise FirmwareError(
            "the bundle's signature does not match the configured update key "
            "(POOLDESK_OTA_PUBLIC_KEY): sign it with that key's private half"
        )
    return bundle


async def add_release(db: AsyncSession, data: bytes, public_key_hex: str) -> FirmwareRelease:
    bundle = check_bundle(data, public_key_hex)
    if await db.get(FirmwareRelease, bundle.version) is not None:
        raise FirmwareError(
            f"release {bundle.version} is stored already", 409, reason=Reason.RELEASE_EXISTS
        )
    release = FirmwareRelease(
        version=bundle.version,
        manifest=bundle.manifest_text,
        signature=bundle.signature.hex(),
        size=sum(len(d) for d in bundle.files.values()),
        bundle=data,
        created_at=utcnow(),
    )
    db.add(release)
    return release


async def releases(db: AsyncSession) -> list[FirmwareRelease]:
    rows = list((await db.execute(select(FirmwareRelease))).scalars())
    return sorted(rows, key=lambda r: version_key(r.version))


def newest(versions: Iterable[str]) -> str | None:
    ordered = sorted(versions, key=version_key)
    return ordered[-1] if ordered else None


async def latest_version(db: AsyncSession) -> str | None:
    return newest((await db.execute(select(FirmwareRelease.version))).scalars())


BOOT_PATTERN = """'%"type":"boot"%'"""


class lines_of(FunctionElement[str]):  # noqa: N801 (a SQL function's name)
    """The values of a text column, one per line (an aggregate). SQLAlchemy's
    `aggregate_strings` binds its separator as a parameter rendered at every execution, which
    the device list paid for on every call; this one is SQL text."""

    type = String()
    inherit_cache = True
    name = "lines_of"


@compiles(lines_of, "sqlite")
def _lines_of_sqlite(element: lines_of, compiler: Any, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, char(10))"


@compiles(lines_of)
def _lines_of(element: lines_of, compiler: Any, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, chr(10))"


def _last_boot(device_pk: Any) -> Select[str]:
    """The data of the device's newest `boot` event (recorded from P/event)."""
    return (
        select(Event.data)
        .where(Event.device_pk == device_pk, Event.type == literal_column("'event'"))
        # The pattern is SQL text, not a bound parameter: SQLite prepares a statement again on
        # every run when a LIKE pattern is bound (its LIKE optimisation depends on the value),
        # which cost the device list ~0.4 ms a call.
        .where(Event.data.like(literal_column(BOOT_PATTERN)))
        .order_by(Event.ts.desc(), Event.id.desc())
        .limit(1)
    )


def _last_update(device_pk: Any) -> Select[str]:
    return (
        select(FirmwareUpdate.id)
        .where(FirmwareUpdate.device_pk == device_pk)
        .order_by(FirmwareUpdate.created_at.desc())
        .limit(1)
    )


def boot_version(text: str | None) -> str | None:
    """The `fw` of a boot event's data, if it has one."""
    if text is None:
        return None
    try:
        fw = json.loads(text).get("fw")
    except (ValueError, AttributeError):
        return None
    return fw if isinstance(fw, str) else None


async def running_version(db: AsyncSession, device: DeviceKey) -> str | None:
    """The version in the device's last `boot` event, if any."""
    return boot_version((await db.execute(_last_boot(device.id))).scalar_one_or_none())


async def current_update(db: AsyncSession, device: DeviceKey) -> FirmwareUpdate | None:
    update_id = (await db.execute(_last_update(device.id))).scalar_one_or_none()
    return None if update_id is None else await db.get(FirmwareUpdate, update_id)


async def start_update(
    db: AsyncSession, device: Device, version: str | None, *, force: bool, by: str
) -> FirmwareUpdate:
    """Queue an update of `device` to `version` (default: the newest release). The server's
    firmware loop offers it to the unit. FirmwareError: no such release, one still running."""
    version = version or await latest_version(db)
    if version is None:
        raise FirmwareError(
            "no firmware release is stored: `pooldesk-backend firmware add`",
            404,
            reason=Reason.NO_RELEASE,
        )
    if await db.get(FirmwareRelease, version) is None:
        raise FirmwareError(
            f"no firmware release {version} is stored", 404, reason=Reason.NO_RELEASE
        )
    last = await current_update(db, device)
    if last is not None and last.state not in FINAL:
        raise FirmwareError(
            f"{device.device_id} is already updating to {last.version} ({last.state}): "
            "wait until it is confirmed, rolled back or failed",
            409,
            reason=Reason.UPDATE_IN_PROGRESS,
        )
    now = utcnow()
    update = FirmwareUpdate(
        id=uuid.uuid4().hex,
        device_pk=device.id,
        version=version,
        force=force,
        started_by=by,
        state="requested",
        progress=None,
        reason=None,
        created_at=now,
        updated_at=now,
    )
    db.add(update)
    return update


def update_json(update: FirmwareUpdate) -> api.FirmwareUpdate:
    return api.FirmwareUpdate(
        id=update.id,
        version=update.version,
        state=update.state,  # type: ignore[arg-type]  # set_state admits only STATES
        progress=update.progress,
        reason=update.reason,
        started_by=update.started_by,
        started_at=iso(update.created_at) or "",
        updated_at=iso(update.updated_at) or "",
    )


async def firmware_json(db: AsyncSession, device: DeviceKey) -> api.Firmware:
    """What GET /api/devices shows under `firmware`, for one device (the list batches it:
    `listed_firmware`)."""
    update = await current_update(db, device)
    return firmware_view(
        await running_version(db, device),
        await latest_version(db),
        update_json(update) if update is not None else None,
    )


def firmware_view(
    running: str | None, latest: str | None, update: api.FirmwareUpdate | None
) -> api.Firmware:
    """A device's firmware from its last boot's version, the newest release and its latest
    update (docs/updates.md)."""
    if update is not None and update.state == "confirmed":
        running = (
            running
            if version_key(running or "") > version_key(update.version)
            else (update.version)
        )
    available = (
        latest
        if latest is not None and (running is None or version_key(latest) > version_key(running))
        else None
    )
    if (
        available is not None
        and update is not None
        and update.version == available
        and update.state == "rolled_back"
    ):
        available = None  # it did not work on this unit: not offered again
    return api.Firmware(running=running, available=available, update=update)


# -- the device list's batched read: every device's firmware in the same query as the devices --

_UPDATE = aliased(FirmwareUpdate, name="last_update")
# Columns added to the device list's query (labelled fw_*), and the join that brings them.
FIRMWARE_COLUMNS = (
    _UPDATE.id.label("fw_update_id"),
    _UPDATE.version.label("fw_version"),
    _UPDATE.state.label("fw_state"),
    _UPDATE.progress.label("fw_progress"),
    _UPDATE.reason.label("fw_reason"),
    _UPDATE.started_by.label("fw_started_by"),
    _UPDATE.created_at.label("fw_created_at"),
    _UPDATE.updated_at.label("fw_updated_at"),
    _last_boot(Device.id).scalar_subquery().label("fw_boot"),
    # Every stored version on each row (evaluated once: not correlated), one per line.
    select(lines_of(FirmwareRelease.version)).scalar_subquery().label("fw_releases"),
)


def with_firmware(devices: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    """The device query with FIRMWARE_COLUMNS: each device's newest update joined by id."""
    newest_update = _last_update(Device.id).scalar_subquery()
    return devices.add_columns(*FIRMWARE_COLUMNS).outerjoin(_UPDATE, _UPDATE.id == newest_update)


def newest_listed(row: Any) -> str | None:
    """The newest stored release, from any row of `with_firmware`."""
    return newest(row.fw_releases.split("\n")) if row.fw_releases else None


def listed_firmware(row: Any, latest: str | None) -> api.Firmware:
    """`firmware_json` from a row of `with_firmware` and the newest release."""
    update = None
    if row.fw_update_id is not None:
        update = api.FirmwareUpdate(
            id=row.fw_update_id,
            version=row.fw_version,
            state=row.fw_state,
            progress=row.fw_progress,
            reason=row.fw_reason,
            started_by=row.fw_started_by,
            started_at=iso(row.fw_created_at) or "",
            updated_at=iso(row.fw_updated_at) or "",
        )
    return firmware_view(boot_version(row.fw_boot), latest, update)


def set_state(
    update: FirmwareUpdate,
    state: str,
    *,
    progress: int | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> bool:
    """Move an update on; -> False when it had ended already or the state is unknown."""
    if update.state in FINAL or state not in STATES:
        return False
    update.state = state
    update.progress = progress if state == "downloading" else None
    update.reason = reason[:256] if reason else None
    update.updated_at = at or utcnow()
    return True
