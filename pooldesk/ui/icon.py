"""The app icon from `resources/icons/`: the SVG where Qt can draw it, the PNG sizes beside it.

The PNGs serve the sizes they were made for, and every size where Qt has no SVG support
(a bundle built without Qt's svg plugins). Found through `resource_files`, so the same code
works from the source tree and from the PyInstaller bundle.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QImageReader

from pooldesk.ui.resource_files import resource

PNG_SIZES = (16, 32, 48, 64, 128, 256, 512)


def svg_supported() -> bool:
    return b"svg" in {bytes(name.data()) for name in QImageReader.supportedImageFormats()}


def app_icon() -> QIcon:
    icon = QIcon()
    svg = resource("icons", "pooldesk.svg")
    if svg.is_file() and svg_supported():
        icon.addFile(str(svg))
    for size in PNG_SIZES:
        png = resource("icons", f"pooldesk-{size}.png")
        if png.is_file():
            icon.addFile(str(png), QSize(size, size))
    return icon
