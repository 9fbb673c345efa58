"""The app icon is the artwork in resources/icons: the SVG, with the PNG sizes as fallback."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from pooldesk.ui.icon import PNG_SIZES, app_icon
from pooldesk.ui.resource_files import resources_dir

SKY = (0x38, 0xBD, 0xF8)  # the top of the SVG's water gradient (#38bdf8)


def _top_colour(icon, size: int) -> tuple[int, int, int]:
    image = icon.pixmap(size, size).toImage()
    colour = image.pixelColor(size // 2, size // 8)
    return colour.red(), colour.green(), colour.blue()


def _near(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


def test_the_icon_is_the_svg_at_any_size(qapp) -> None:
    icon = app_icon()
    assert not icon.isNull()
    for size in (16, 24, 100, 512):  # 24 and 100 have no PNG: drawn from the SVG
        pixmap = icon.pixmap(size, size)
        assert pixmap.width() == size
        assert _near(_top_colour(icon, size), SKY), size


@pytest.fixture
def bundle_with_pngs_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PyInstaller-like folder (`sys._MEIPASS`) whose resources hold the PNGs but no SVG."""
    icons = tmp_path / "resources" / "icons"
    icons.mkdir(parents=True)
    for size in PNG_SIZES:
        name = f"pooldesk-{size}.png"
        shutil.copy(resources_dir() / "icons" / name, icons / name)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    return tmp_path


def test_the_pngs_serve_when_there_is_no_svg(qapp, bundle_with_pngs_only) -> None:
    assert resources_dir() == bundle_with_pngs_only / "resources"
    icon = app_icon()
    assert not icon.isNull()
    assert sorted(s.width() for s in icon.availableSizes()) == sorted(PNG_SIZES)
    assert _near(_top_colour(icon, 64), SKY)


def test_no_artwork_gives_an_empty_icon_not_a_crash(qapp, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert app_icon().isNull()
