"""`pooldesk-release`: keys, bundles and what they hold; and `pooldesk-flash` forgetting an
over-the-air version so the files it flashes are the ones that boot."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import pytest

from pooldesk_firmware.tools import flash, release


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("release") / "k.pem"
    assert release.main(["keygen", "--out", str(path)]) == 0
    return path


def test_keygen_keeps_the_private_key_private_and_never_overwrites(key: Path, capsys) -> None:
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert len(bytes.fromhex(key.with_suffix(".pub").read_text().strip())) == 32
    assert release.main(["keygen", "--out", str(key)]) == 2
    assert "is never overwritten" in capsys.readouterr().err


def test_a_bundle_holds_compiled_modules_at_its_version_but_never_the_boot_files(
    key: Path, tmp_path: Path
) -> None:
    out = tmp_path / "fw.zip"
    assert release.main(["build", "--key", str(key), "--version", "1.2.3", "--out", str(out),
                         "--min-previous", "0.4.0"]) == 0  # fmt: skip
    bundle = release.read_bundle(out.read_bytes())
    m = bundle.manifest
    assert m["version"] == "1.2.3"
    assert m["min_previous"] == "0.4.0"
    names = set(bundle.files)
    assert "fw_controller.mpy" in names
    assert "fw_tzdb.txt" in names
    assert not names & {"main.py", "main.mpy", "fw_boot.py", "fw_boot.mpy"}
    assert not any(n.endswith(".py") for n in names)
    pub = bytes.fromhex(key.with_suffix(".pub").read_text())
    assert release.verify(bundle, pub)
    for f in m["files"]:
        data = bundle.files[f["name"]]
        assert len(f["chunks"]) == max(1, -(-len(data) // m["chunk"]))
    py = release.read_bundle(
        release.build(key, "1.2.3", tmp_path / "py.zip", fmt="py").read_bytes()
    )
    assert 'FW_VERSION = "1.2.3"' in py.files["fw_ids.py"].decode()


def test_a_changed_file_or_manifest_is_caught(key: Path, tmp_path: Path) -> None:
    out = release.build(key, "1.0.0", tmp_path / "a.zip", fmt="py")
    with zipfile.ZipFile(out) as z:
        items = {n: z.read(n) for n in z.namelist()}
    items["files/fw_pump.py"] += b"\n# changed\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, d in items.items():
            z.writestr(n, d)
    with pytest.raises(release.ReleaseError, match=r"fw_pump.py: its SHA-256 differs"):
        release.read_bundle(buf.getvalue())
    bundle = release.read_bundle(out.read_bytes())
    forged = release.Bundle(
        bundle.manifest_text.replace('"1.0.0"', '"9.0.0"'), bundle.signature, bundle.files
    )
    pub = bytes.fromhex(key.with_suffix(".pub").read_text())
    assert not release.verify(forged, pub)
    assert json.loads(forged.manifest_text)["version"] == "9.0.0"


def test_a_bad_version_is_refused_with_the_rule(key: Path, tmp_path: Path, capsys) -> None:
    assert release.main(["build", "--key", str(key), "--version", "v2"]) == 2
    assert "use numbers with dots, like 0.5.0" in capsys.readouterr().err


def test_flashing_forgets_an_over_the_air_version(tmp_path: Path) -> None:
    script = flash.cleanup_script([], keep_config=True)
    for name in ("boot.json", "boot.json.new", "boot.json.old"):
        assert json.dumps(name) in script
    assert "config.json" not in script
