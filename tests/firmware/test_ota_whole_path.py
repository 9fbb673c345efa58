"""Firmware updates over the whole path: `pooldesk-release` bundles, a real backend process
(`pooldesk-backend serve` with its managed Mosquitto), the update offered and fetched over the
unit's own MQTT login, and the simulated controller running the unchanged firmware, which
verifies, stages, swaps and boots the new version on trial (docs/updates.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pooldesk_firmware.sim.runner import SimulatedController
from tests.support import ota

pytestmark = pytest.mark.timeout(240)
ENDED = ("confirmed", "rolled_back", "failed")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    folder = tmp_path_factory.mktemp("ota-keys")
    key, pub = ota.keypair(folder)
    return key, pub, folder


@pytest.fixture(scope="module")
def releases(keys: tuple[Path, str, Path]) -> dict[str, Path]:
    key, _pub, folder = keys
    broken = ota.source_copy(folder, ota.crash_at_start)
    never_online = ota.source_copy(folder, ota.never_online)
    return {
        "0.5.0": ota.build(folder, key, "0.5.0"),
        "0.3.0": ota.build(folder, key, "0.3.0"),
        "0.6.0-broken": ota.build(folder, key, "0.6.0", source=broken),
        "0.7.0-offline": ota.build(folder, key, "0.7.0", source=never_online),
    }


@pytest.fixture(scope="module")
def backend(tmp_path_factory, keys, releases):
    """One backend process for the module (it starts in its own event loop: it is a child
    process, the tests talk to it over HTTP and MQTT)."""
    _key, pub, _folder = keys
    be = ota.Backend(tmp_path_factory.mktemp("ota-backend"), pub)
    asyncio.run(be.process.start())
    try:
        for name in ("0.5.0", "0.3.0", "0.6.0-broken", "0.7.0-offline"):
            done = be.cli("firmware", "add", str(releases[name]))
            assert done.returncode == 0, done.stderr
        yield be
    finally:
        be.process.stop()


async def _unit(backend: ota.Backend, tmp_path: Path, index: int, pub: str, **kw):
    device_id = "ESP-" + (0x240AC4A1B2C3 + index).to_bytes(6, "big")[-3:].hex().upper()
    owner = await backend.owner(device_id)
    binding = await backend.bind(owner, device_id)
    sim = SimulatedController(tmp_path / device_id, index=index, binding=binding, ota_key=pub, **kw)
    return owner, sim


async def _pump_on(owner: ota.Owner, sim: SimulatedController) -> None:
    await ota.command_pump(owner, sim.device_id, True)
    await sim.wait_until(lambda: sim.relay_on)


async def test_a_good_update_is_confirmed_online_and_keeps_pump_schedule_and_binding(
    backend, keys, tmp_path
) -> None:
    _key, pub, _ = keys
    owner, sim = await _unit(backend, tmp_path, 0, pub)
    async with sim:
        await sim.wait_until(lambda: sim.online, 15)
        await _pump_on(owner, sim)
        before = sim.stored_config()
        fw = (await owner.device(sim.device_id))["firmware"]
        assert fw["available"] == "0.7.0"  # the newest stored release
        r = await owner.start_update(sim.device_id, "0.5.0")
        assert r.status_code == 202, r.text
        again = await owner.start_update(sim.device_id, "0.5.0")
        assert again.status_code == 409
        assert "already updating" in again.json()["error"]["message"]
        assert again.json()["error"]["reason"] == "update_in_progress"
        fw = await owner.wait_update(sim.device_id, ENDED)
        assert fw["update"]["state"] == "confirmed", fw
        assert fw["running"] == "0.5.0"
        assert sim.controller.fw_version == "0.5.0"
        assert sim.version_folder is not None
        assert sim.version_folder.endswith("fw/0.5.0")
        await sim.wait_until(lambda: sim.online and sim.relay_on, 10)
        after = sim.stored_config()
        for section in ("binding", "pump", "schedule", "freeze"):
            assert after.get(section) == before.get(section), section
        # a power cycle later it is still the new version, no longer on trial
        await sim.reboot()
        await sim.wait_until(lambda: sim.online, 15)
        assert sim.controller.fw_version == "0.5.0"
    events = [e for e in await owner.audit() if e["event"] == "firmware_update"]
    states = [e["detail"].get("state") for e in reversed(events)]  # oldest first
    assert states == [
        "requested", "offered", "downloading", "verifying", "installed", "confirmed"
    ]  # fmt: skip


async def test_a_release_that_crashes_at_start_rolls_back_by_itself(
    backend, keys, tmp_path
) -> None:
    _key, pub, _ = keys
    owner, sim = await _unit(backend, tmp_path, 1, pub)
    async with sim:
        await sim.wait_until(lambda: sim.online, 15)
        await _pump_on(owner, sim)
        assert (await owner.start_update(sim.device_id, "0.6.0")).status_code == 202
        fw = await owner.wait_update(sim.device_id, ENDED)
        assert fw["update"]["state"] == "rolled_back", fw
        assert "did not start" in fw["update"]["reason"]
        assert sim.controller.fw_version == "0.4.0"
        assert sim.version_folder is None
        await sim.wait_until(lambda: sim.online and sim.relay_on, 10)


async def test_a_release_that_never_gets_online_rolls_back_after_the_trial_time(
    backend, keys, tmp_path
) -> None:
    _key, pub, _ = keys
    owner, sim = await _unit(backend, tmp_path, 2, pub, trial_s=4)
    async with sim:
        await sim.wait_until(lambda: sim.online, 15)
        assert (await owner.start_update(sim.device_id, "0.7.0")).status_code == 202
        fw = await owner.wait_update(sim.device_id, ENDED, within=60)
        assert fw["update"]["state"] == "rolled_back", fw
        assert "not online within 4 s" in fw["update"]["reason"]
        assert sim.controller.fw_version == "0.4.0"


async def test_a_downgrade_is_refused_unless_the_operator_forces_it(
    backend, keys, tmp_path
) -> None:
    _key, pub, _ = keys
    owner, sim = await _unit(backend, tmp_path, 3, pub)
    async with sim:
        await sim.wait_until(lambda: sim.online, 15)
        assert (await owner.start_update(sim.device_id, "0.3.0")).status_code == 202
        fw = await owner.wait_update(sim.device_id, ENDED)
        assert fw["update"]["state"] == "failed"
        assert "downgrade from 0.4.0 to 0.3.0 refused" in fw["update"]["reason"]
        assert not (sim.device.flash / "fw" / "0.3.0").exists()
        assert sim.controller.fw_version == "0.4.0"
        done = backend.cli(
            "firmware", "update", "--device", sim.device_id, "--version", "0.3.0", "--force"
        )
        assert done.returncode == 0, done.stderr
        fw = await owner.wait_update(sim.device_id, ENDED)
        assert fw["update"]["state"] == "confirmed", fw
        assert sim.controller.fw_version == "0.3.0"
        assert fw["update"]["startedBy"] == "operator"


async def test_a_unit_with_another_operators_key_refuses_the_release_unchanged(
    backend, keys, tmp_path
) -> None:
    _key, _pub, folder = keys
    (folder / "other").mkdir()
    other_pub = ota.keypair(folder / "other")[1]
    owner, sim = await _unit(backend, tmp_path, 4, other_pub)
    async with sim:
        await sim.wait_until(lambda: sim.online, 15)
        before = sorted(p.name for p in sim.device.flash.iterdir())
        assert (await owner.start_update(sim.device_id, "0.5.0")).status_code == 202
        fw = await owner.wait_update(sim.device_id, ENDED)
        assert fw["update"]["state"] == "failed"
        assert fw["update"]["reason"] == "bad signature"
        assert sorted(p.name for p in sim.device.flash.iterdir() if p.name != "fw") == [
            n for n in before if n != "fw"
        ]
        assert not any((sim.device.flash / "fw").glob("0.*"))
        assert sim.controller.fw_version == "0.4.0"


async def test_the_backend_refuses_a_bundle_signed_with_another_key(backend, keys) -> None:
    _key, _pub, folder = keys
    (folder / "stranger").mkdir()
    stranger_key, _ = ota.keypair(folder / "stranger")
    bundle = ota.build(folder, stranger_key, "9.0.0")
    done = backend.cli("firmware", "add", str(bundle))
    assert done.returncode == 1
    assert "signature does not match the configured update key" in done.stderr
    listed = backend.cli("firmware", "list").stdout
    assert "9.0.0" not in listed
    assert "0.5.0" in listed


async def test_only_the_owner_starts_an_update_and_bad_requests_are_told_why(
    backend, keys, tmp_path
) -> None:
    owner = await backend.owner("ESP-0BAD01")
    stranger = await backend.owner("ESP-0BAD02")
    r = await stranger.start_update("ESP-0BAD01", "0.5.0")
    assert r.status_code == 404  # someone else's device does not exist for a stranger
    r = await owner.http.post("/api/devices/ESP-0BAD01/firmware-update", json={})
    assert r.status_code == 401
    r = await owner.start_update("ESP-0BAD01", "9.9.9")
    assert r.status_code == 404
    assert "no firmware release 9.9.9" in r.json()["error"]["message"]
    r = await owner.http.post(
        "/api/devices/ESP-0BAD01/firmware-update", json={"version": 5}, headers=owner.auth
    )
    assert r.status_code == 400
    assert "version" in r.json()["error"]["message"]
    assert (await owner.device("ESP-0BAD01"))["firmware"]["update"] is None
    # all of the owner's devices at once: one update each, queued
    r = await owner.http.post("/api/firmware-update", json={"version": "0.5.0"}, headers=owner.auth)
    assert r.status_code == 202
    assert [u["state"] for u in r.json()["updates"]] == ["requested"]
    status = backend.cli("firmware", "status", "--device", "ESP-0BAD01")
    assert status.returncode == 0
    assert "0.5.0" in status.stdout
    assert "ESP-0BAD02" not in status.stdout


def test_the_operator_is_told_what_is_wrong_with_a_bundle(backend, tmp_path) -> None:
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("hello")
    done = backend.cli("firmware", "add", str(not_zip))
    assert done.returncode == 1
    assert "not a PoolDesk firmware bundle" in done.stderr
    done = backend.cli("firmware", "add", str(tmp_path / "missing.zip"))
    assert done.returncode == 1
    assert "cannot read" in done.stderr
    done = backend.cli("firmware", "update", "--device", "ESP-FFFFFF")
    assert done.returncode == 1
    assert "no device ESP-FFFFFF is registered" in done.stderr
    assert "Traceback" not in done.stderr


def test_without_an_update_key_the_backend_stores_no_release(keys, releases, tmp_path) -> None:
    be = ota.Backend(tmp_path / "nokey", "")
    done = be.cli("firmware", "add", str(releases["0.5.0"]))
    assert done.returncode == 1
    assert "POOLDESK_OTA_PUBLIC_KEY" in done.stderr
