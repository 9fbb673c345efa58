"""The unit's side of an update against a real broker, with the backend's own transport
(`pooldesk_server.firmware.transport.OtaSession`) in this process so a test can spoil a chunk or cut
the power at every step of the swap (docs/updates.md)."""

from __future__ import annotations

import asyncio
import builtins
import os
import time
from pathlib import Path

import pytest

from pooldesk_firmware.sim.loader import FirmwareImage
from pooldesk_firmware.sim.runner import SimulatedController
from pooldesk_firmware.tools.release import read_bundle
from pooldesk_server.broker.base import BrokerLogin
from pooldesk_server.firmware.transport import OtaSession, offer_payload
from tests.firmware.conftest import PREFIX, make_binding
from tests.support import ota

_firmware = FirmwareImage()  # the firmware's own modules, apart from this process's
fw_boot = _firmware.module("fw_boot")

pytestmark = pytest.mark.timeout(300)
ENDED = ("confirmed", "rolled_back", "failed")


class PowerCut(BaseException):
    pass


class CuttingFS:
    """`os` and `open` for fw_ota and fw_store that cut the power at write step `cut_at`
    (opening for writing, each write — half written —, fsync, rename, remove, mkdir, rmdir).
    Data written but not fsynced is lost at the cut. cut_at -1: never; `step` counts.

    With `origin`, `cut_at` counts from the step at which mark `origin` was set (`marks`: the
    test's notes of where this install's phases began), so a cut lands on the same write of a
    phase whatever went before it in this run (a download started over, a save by the
    controller). `marks["cut"]` is the step the power was cut at."""

    def __init__(self, cut_at: int, origin: str | None = None) -> None:
        self.cut_at = cut_at
        self.origin = origin
        self.step = 0
        self.unsynced: dict[str, int] = {}
        self.fd_path: dict[int, str] = {}
        self.marks: dict[str, int] = {}

    def _due(self) -> bool:
        if self.origin is None:
            return self.step == self.cut_at
        start = self.marks.get(self.origin)
        return start is not None and self.step - start == self.cut_at

    def cut(self) -> None:
        self.marks["cut"] = self.step
        self.lose_unsynced()
        raise PowerCut

    def point(self) -> None:
        """A moment between two steps the power may be cut at (no write counted)."""
        if self._due():
            self.cut()

    def _tick(self) -> None:
        self.point()
        self.step += 1

    def lose_unsynced(self) -> None:
        for path, durable in self.unsynced.items():
            if os.path.exists(path):
                os.truncate(path, durable)

    def __getattr__(self, name: str):
        return getattr(os, name)

    def rename(self, a: str, b: str) -> None:
        self._tick()
        os.rename(a, b)
        for path in list(self.unsynced):
            if path == a or path.startswith(a + "/"):
                self.unsynced[b + path[len(a) :]] = self.unsynced.pop(path)

    def remove(self, path: str) -> None:
        self._tick()
        os.remove(path)

    def mkdir(self, path: str) -> None:
        self._tick()
        os.mkdir(path)

    def rmdir(self, path: str) -> None:
        self._tick()
        os.rmdir(path)

    def fsync(self, fd: int) -> None:
        self._tick()
        os.fsync(fd)
        path = self.fd_path.get(fd)
        if path in self.unsynced:
            self.unsynced[path] = os.path.getsize(path)

    def file_open(self, path: str, mode: str = "r"):
        if "w" not in mode and "a" not in mode:
            return builtins.open(path, mode)
        self._tick()
        f = builtins.open(path, mode)  # noqa: SIM115 - handed to the caller, who closes it
        self.unsynced[path] = 0
        self.fd_path[f.fileno()] = path
        fs = self

        class Writer:
            def write(self, data):
                if fs._due():
                    f.write(data[: len(data) // 2])
                    f.flush()
                    f.close()
                    fs.cut()
                fs.step += 1
                return f.write(data)

            def __getattr__(self, name: str):
                return getattr(f, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc: object) -> None:
                f.close()

        return Writer()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("ota-swap")
    key, pub = ota.keypair(folder)
    return read_bundle(ota.build(folder, key, "0.5.0").read_bytes()), pub


class Session:
    """The backend's transport for one update, in this process; statuses collected."""

    def __init__(self, port: int, bundle, update_id: str, tamper=None) -> None:
        self.statuses: list[dict] = []
        login = BrokerLogin("svc-ota-test", "unused", f"svc-ota-{update_id}", ())
        self.session = OtaSession(
            f"mqtt://127.0.0.1:{port}",
            None,
            login,
            PREFIX,
            update_id,
            offer_payload(update_id, bundle, False),
            bundle.files,
            bundle.manifest["chunk"],
            self.statuses.append,
        )
        self.session.tamper = tamper

    async def __aenter__(self) -> Session:
        await self.session.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()

    async def wait(self, states: tuple[str, ...], within: float = 30.0) -> dict:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.statuses and self.statuses[-1].get("state") in states:
                return self.statuses[-1]
            await asyncio.sleep(0.02)
        raise TimeoutError(f"no {states} in {within} s: {self.statuses[-3:]}")


def _flash_names(flash: Path) -> list[str]:
    return sorted(str(p.relative_to(flash)) for p in flash.rglob("*"))


async def test_a_tampered_chunk_is_refused_and_nothing_changes(broker, bundle, tmp_path) -> None:
    b, pub = bundle
    spoiled = []

    def tamper(name: str, index: int, part: bytes) -> bytes:
        if name == "fw_controller.py" and index == 1:
            spoiled.append(index)
            return part[:100] + bytes([part[100] ^ 1]) + part[101:]
        return part

    async with SimulatedController(
        tmp_path / "dev", binding=make_binding(broker), ota_key=pub
    ) as sim:
        await sim.wait_until(lambda: sim.online, 10)
        before = _flash_names(sim.device.flash)
        async with Session(broker, b, "tampered-1", tamper) as s:
            end = await s.wait(ENDED)
        assert spoiled, "the spoiled chunk was asked for"
        assert end["state"] == "failed"
        assert end["reason"] == "fw_controller.py chunk 1: hash mismatch"
        assert [n for n in _flash_names(sim.device.flash) if n != "fw"] == [
            n for n in before if n != "fw"
        ]
        assert not (sim.device.flash / "boot.json").exists()
        assert sim.online
        assert sim.controller.fw_version == "0.4.0"


async def test_a_connection_lost_mid_download_starts_over_and_ends_confirmed(
    broker, bundle, tmp_path
) -> None:
    b, pub = bundle
    loop = asyncio.get_running_loop()
    dropped = []

    async with SimulatedController(
        tmp_path / "dev", binding=make_binding(broker), ota_key=pub
    ) as sim:
        await sim.wait_until(lambda: sim.online, 10)

        def drop_once(name: str, index: int, part: bytes) -> bytes:
            if not dropped and name == "fw_controller.py" and index == 2:
                dropped.append(sim.controller.client)
                loop.call_soon_threadsafe(sim.controller.client.abort)  # the link drops
            return part

        async with Session(broker, b, "dropped-1", drop_once) as s:
            end = await s.wait(ENDED, within=60)
        assert dropped, "the connection was dropped during the download"
        assert end["state"] == "confirmed", end
        # the download went on over the new connection, or started over from the offer
        assert [x["state"] for x in s.statuses].count("offered") in (1, 2)
        assert "failed" not in [x["state"] for x in s.statuses]
        assert sim.controller.fw_version == "0.5.0"


def _patch(monkeypatch: pytest.MonkeyPatch, fs: CuttingFS, sim: SimulatedController) -> None:
    """The running unit's own fw_ota and fw_store write through `fs`, which marks where the
    verify-and-swap phase began ("verify"), where the pointer's write began ("pointer") and
    where it returned ("activated", a moment the power may be cut at too)."""
    assert sim.image is not None
    running_ota = sim.image.module("fw_ota")
    for module in (running_ota, sim.image.module("fw_store")):
        monkeypatch.setattr(module, "os", fs)
        monkeypatch.setattr(module, "open", fs.file_open, raising=False)
    verify = running_ota.Updater._verify
    activate = running_ota.fw_boot.activate

    def marking_verify(self, m):
        fs.marks.setdefault("verify", fs.step)
        return verify(self, m)

    def marking_activate(*args):
        fs.marks.setdefault("pointer", fs.step)
        activate(*args)
        fs.marks.setdefault("activated", fs.step)
        fs.point()

    monkeypatch.setattr(running_ota.Updater, "_verify", marking_verify)
    monkeypatch.setattr(running_ota.fw_boot, "activate", marking_activate)


async def _install_with_cut(
    broker: int, b, pub: str, folder: Path, fs: CuttingFS, monkeypatch
) -> str:
    """Install with the power cut where `fs` says; then power on and let the update finish.
    -> what the unit booted after the cut: "old" or "new"."""
    sim = SimulatedController(folder, binding=make_binding(broker), ota_key=pub)
    await sim.start()
    try:
        await sim.wait_until(lambda: sim.online, 10)
        # Before the offer goes out: the unit starts writing as soon as it hears it, and under
        # load it did so before a patch made after the offer, whose count then missed steps.
        _patch(monkeypatch, fs, sim)
        try:
            async with Session(broker, b, f"cut-{folder.name}") as s:
                try:
                    await sim.wait_until(
                        lambda: (
                            (sim._task is not None and sim._task.done())
                            or (s.statuses and s.statuses[-1]["state"] in ("installed", *ENDED))
                        ),
                        30,
                    )
                finally:
                    monkeypatch.undo()
                await sim.power_cut()
                await sim.power_on()
                booted = "old" if sim.version_folder is None else "new"
                if sim.version_folder is not None:
                    assert fw_boot.complete(str(folder), "0.5.0"), f"{folder.name}: incomplete"
                await sim.wait_until(lambda: sim.online, 15)
                end = await s.wait(ENDED, within=30)
                assert end["state"] == "confirmed", f"{folder.name}: {end}"
                await sim.wait_until(lambda: sim.controller.fw_version == "0.5.0", 10)
        finally:
            monkeypatch.undo()
    finally:
        await sim.stop()
    return booted


@pytest.fixture
def uncut_marks(broker, bundle, tmp_path, monkeypatch) -> dict[str, int]:
    """Where the phases of an uncut install began (steps counted from before the offer)."""
    b, pub = bundle
    fs = CuttingFS(-1)
    asyncio.run(_install_with_cut(broker, b, pub, tmp_path / "uncut", fs, monkeypatch))
    assert "cut" not in fs.marks
    return fs.marks


def test_a_power_cut_at_every_step_of_the_swap_boots_one_complete_version(
    broker, bundle, tmp_path, monkeypatch, uncut_marks
) -> None:
    b, pub = bundle
    verify, activated = uncut_marks["verify"], uncut_marks["activated"]
    assert activated - uncut_marks["pointer"] >= 4  # the pointer's open, writes, fsync...
    # a few steps inside the download; then every step from the end of the download on,
    # counted from this run's own start of the verify-and-swap phase, to the moment the
    # pointer's write has returned
    plans = [CuttingFS(n) for n in sorted({1, verify // 3, 2 * verify // 3})]
    plans += [CuttingFS(n, origin="verify") for n in range(activated - verify + 1)]
    before, inside, after = [], [], []
    for fs in plans:
        name = f"{fs.origin or 'start'}+{fs.cut_at}"
        what = asyncio.run(_install_with_cut(broker, b, pub, tmp_path / name, fs, monkeypatch))
        marks = fs.marks
        assert "cut" in marks, f"{name}: the install ended before the cut: {marks}"
        if "pointer" not in marks:
            before.append((name, what))
        elif "activated" in marks:
            after.append((name, what))
        else:
            inside.append((marks["cut"] - marks["pointer"], what))
    # a cut before the pointer's write boots the old version, one after it the new;
    # one during it the old until the new pointer is durable, then the new
    assert all(what == "old" for _, what in before), before
    assert all(what == "new" for _, what in after), after
    switched = [what for _, what in sorted(inside)]
    assert switched == sorted(switched, key=("old", "new").index), sorted(inside)
    # every case was exercised: in the download, in the swap before the pointer, during the
    # pointer's write (open, writes, fsync...), right after it
    assert len(before) > 3
    assert len(inside) >= 4
    assert len(after) == 1
