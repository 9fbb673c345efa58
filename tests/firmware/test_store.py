"""The configuration store survives a power cut at every write step (old or new, never broken)."""

from __future__ import annotations

import builtins
import errno
import os
from pathlib import Path

import pytest

from pooldesk_firmware.sim.loader import FirmwareImage

_firmware = FirmwareImage()  # the firmware's own modules, apart from this process's
fw_store = _firmware.module("fw_store")

OLD = {"binding": {"ssid": "PoolNet", "password": "old-password"}, "pump": {"mode": "manual"}}
NEW = {
    "binding": {"ssid": "PoolNet", "password": "new-password"},
    "pump": {"mode": "timer"},
    "padding": "x" * 5000,
}


class PowerCut(BaseException):
    pass


class CuttingFS:
    """Stands in for `os` and `open` inside fw_store and cuts the power at write step `cut_at`.

    Steps: opening a file for writing, each write, each fsync, each rename, each remove.
    A cut mid-write leaves half the bytes; data written but not yet fsynced is lost (the file
    is truncated to what was synced), as a page cache would lose it. `fat=True` makes rename
    refuse to replace an existing file, as FAT does.
    """

    def __init__(self, cut_at: int, fat: bool = False) -> None:
        self.cut_at = cut_at
        self.fat = fat
        self.step = 0
        self.unsynced: dict[str, int] = {}  # path -> bytes durable so far
        self.fd_path: dict[int, str] = {}

    def _tick(self) -> None:
        if self.step == self.cut_at:
            self.lose_unsynced()
            raise PowerCut
        self.step += 1

    def lose_unsynced(self) -> None:
        for path, durable in self.unsynced.items():
            if os.path.exists(path):
                os.truncate(path, durable)

    # the `os` functions fw_store uses
    def __getattr__(self, name: str):
        return getattr(os, name)

    def rename(self, a: str, b: str) -> None:
        self._tick()
        if self.fat and os.path.exists(b):
            raise OSError(errno.EEXIST, "exists")
        os.rename(a, b)
        if a in self.unsynced:
            self.unsynced[b] = self.unsynced.pop(a)

    def remove(self, path: str) -> None:
        self._tick()
        os.remove(path)

    def fsync(self, fd: int) -> None:
        self._tick()
        os.fsync(fd)
        path = self.fd_path.get(fd)
        if path in self.unsynced:
            self.unsynced[path] = os.path.getsize(path)

    def file_open(self, path: str, mode: str = "r"):
        if "w" not in mode:
            return builtins.open(path, mode)
        self._tick()
        f = builtins.open(path, mode)  # noqa: SIM115 - handed to the caller, who closes it
        self.unsynced[path] = 0
        self.fd_path[f.fileno()] = path
        fs = self

        class Writer:
            def write(self, data: bytes) -> int:
                if fs.step == fs.cut_at:
                    f.write(data[: len(data) // 2])
                    f.flush()
                    f.close()
                    fs.lose_unsynced()
                    raise PowerCut
                fs.step += 1
                return f.write(data)

            def __getattr__(self, name: str):
                return getattr(f, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc: object) -> None:
                f.close()

        return Writer()


def _with_fs(monkeypatch: pytest.MonkeyPatch, fs: CuttingFS) -> None:
    monkeypatch.setattr(fw_store, "os", fs)
    monkeypatch.setattr(fw_store, "open", fs.file_open, raising=False)


def _first_rename_step(folder: Path, monkeypatch: pytest.MonkeyPatch, data: dict) -> int:
    """The write step at which a save of `data` renames its new file into place."""
    folder.mkdir()
    fs = CuttingFS(cut_at=-1)
    steps: list[int] = []
    rename = fs.rename

    def counting_rename(a: str, b: str) -> None:
        steps.append(fs.step)
        rename(a, b)

    fs.rename = counting_rename  # type: ignore[method-assign]
    _with_fs(monkeypatch, fs)
    fw_store.Store(str(folder)).save(data)
    monkeypatch.undo()
    return steps[0]


@pytest.mark.parametrize("fat", [False, True], ids=["atomic-rename", "fat-rename"])
def test_power_cut_at_every_write_step_leaves_old_or_new(tmp_path: Path, monkeypatch, fat):
    cut_at = 0
    outcomes = set()
    while True:
        folder = tmp_path / f"cut{cut_at}"
        folder.mkdir()
        fw_store.Store(str(folder)).save(OLD)

        _with_fs(monkeypatch, CuttingFS(cut_at, fat))
        store = fw_store.Store(str(folder))
        store.load()
        try:
            store.save(NEW)
            finished = True
        except PowerCut:
            finished = False
        monkeypatch.undo()

        # next boot: the firmware's own store reads the flash
        after = fw_store.Store(str(folder)).load()
        assert after in (OLD, NEW), f"cut at step {cut_at}: {after!r}"
        outcomes.add("new" if after == NEW else "old")

        # and the device keeps working: the next save wins, after another reboot too
        third = {"generation": 3}
        s = fw_store.Store(str(folder))
        s.load()
        s.save(third)
        assert fw_store.Store(str(folder)).load() == third
        if finished:
            assert after == NEW
            break
        cut_at += 1
    assert cut_at >= 5  # the save really has that many steps, each one was cut
    assert outcomes == {"old", "new"}


def test_a_completed_but_unrenamed_save_is_kept_even_if_the_next_save_is_cut(
    tmp_path: Path, monkeypatch
):
    """Cut between fsync and rename: the complete new file wins at boot, and a second cut
    during the following save must not lose it."""
    store = fw_store.Store(str(tmp_path))
    store.save(OLD)
    rename_step = _first_rename_step(tmp_path / "count", monkeypatch, NEW)
    _with_fs(monkeypatch, CuttingFS(cut_at=rename_step))  # open, writes, fsync: the rename is cut
    s = fw_store.Store(str(tmp_path))
    s.load()
    with pytest.raises(PowerCut):
        s.save(NEW)
    monkeypatch.undo()
    assert (tmp_path / "config.json.new").exists()
    assert fw_store.Store(str(tmp_path)).load() == NEW
    _with_fs(monkeypatch, CuttingFS(cut_at=1))  # the next save is cut mid-write
    s = fw_store.Store(str(tmp_path))
    assert s.load() == NEW
    with pytest.raises(PowerCut):
        s.save({"generation": 3})
    monkeypatch.undo()
    assert fw_store.Store(str(tmp_path)).load() == NEW


def test_corrupt_or_foreign_files_are_ignored(tmp_path: Path):
    store = fw_store.Store(str(tmp_path))
    store.save(OLD)
    raw = (tmp_path / "config.json").read_bytes()
    (tmp_path / "config.json.new").write_bytes(raw.replace(b"old-password", b"evil-password"))
    assert fw_store.Store(str(tmp_path)).load() == OLD  # checksum mismatch
    (tmp_path / "config.json").write_bytes(b"\x00" * 100)
    (tmp_path / "config.json.new").unlink()
    assert fw_store.Store(str(tmp_path)).load() == {}


def test_empty_flash_loads_empty_config(tmp_path: Path):
    assert fw_store.Store(str(tmp_path)).load() == {}
