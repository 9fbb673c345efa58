"""One look in light and dark: Fusion with PoolDesk's palette, following the OS's scheme.

Qt reports the OS's colour scheme (`QStyleHints.colorScheme`, Qt 6.5+) and signals changes, so
the palette follows the system live. `POOLDESK_THEME=light|dark` forces one (screenshots).
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

BRAND = "#1565c0"  # the icon's blue
ENV_VAR = "POOLDESK_THEME"
_following: QApplication | None = None  # the app whose palette follows the OS

_LIGHT = {
    "Window": "#f4f6f9",
    "WindowText": "#1c1f24",
    "Base": "#ffffff",
    "AlternateBase": "#eef2f7",
    "Text": "#1c1f24",
    "Button": "#e9edf3",
    "ButtonText": "#1c1f24",
    "ToolTipBase": "#ffffff",
    "ToolTipText": "#1c1f24",
    "PlaceholderText": "#7a828e",
    "Highlight": BRAND,
    "HighlightedText": "#ffffff",
    "Link": BRAND,
    "Mid": "#c4cad3",
    "Dark": "#9aa3af",
}
_DARK = {
    "Window": "#1d2127",
    "WindowText": "#e6e9ee",
    "Base": "#262b33",
    "AlternateBase": "#242932",
    "Text": "#e6e9ee",
    "Button": "#2a3038",
    "ButtonText": "#e6e9ee",
    "ToolTipBase": "#2a3038",
    "ToolTipText": "#e6e9ee",
    "PlaceholderText": "#8b939e",
    "Highlight": "#2f6fbf",
    "HighlightedText": "#ffffff",
    "Link": "#7ab3f5",
    "Mid": "#3a414b",
    "Dark": "#0f1115",
}


# Fusion outlines a text field with a darker shade of the window: invisible on a dark window.
# In the dark theme fields get a lighter fill and a border with at least 3:1 contrast to the
# window (WCAG 1.4.11), and a blue border while focused.
DARK_FIELD_BORDER = "#6b7583"
DARK_FIELD_FILL = "#262b33"
DARK_INPUTS = f"""
QLineEdit, QAbstractSpinBox, QPlainTextEdit, QTextEdit {{
    border: 1px solid {DARK_FIELD_BORDER}; border-radius: 3px; padding: 3px 4px;
    background: {DARK_FIELD_FILL};
}}
QLineEdit:focus, QAbstractSpinBox:focus, QPlainTextEdit:focus, QTextEdit:focus {{
    border-color: #7ab3f5;
}}
QLineEdit:disabled, QAbstractSpinBox:disabled {{ border-color: #4a525d; }}
"""


THEMED = "pooldeskThemed"  # a window property: its widgets get field_style()
_dark = [False]


def field_style() -> str:
    """The style sheet for a PoolDesk window (and the dialogs it parents) in the scheme in use.
    Set on windows rather than on the application, which keeps plain Fusion."""
    return DARK_INPUTS if _dark[0] else ""


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""

    def luminance(name: str) -> float:
        color = QColor(name)

        def channel(value: float) -> float:
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(c) for c in (color.redF(), color.greenF(), color.blueF()))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def palette(dark: bool) -> QPalette:
    colors = _DARK if dark else _LIGHT
    result = QPalette()
    for role_name, value in colors.items():
        role = getattr(QPalette.ColorRole, role_name)
        result.setColor(role, QColor(value))
    disabled = QColor("#6b7380" if dark else "#a0a7b1")
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        result.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return result


def os_prefers_dark() -> bool:
    forced = os.environ.get(ENV_VAR, "").strip().lower()
    if forced in ("light", "dark"):
        return forced == "dark"
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication) -> bool:
    """Fusion style with the light or dark palette; re-applied when the OS switches. Returns
    True when the dark palette is in use."""
    app.setStyle("Fusion")

    def refresh(*_: object) -> None:
        dark = os_prefers_dark()
        app.setPalette(palette(dark))
        _dark[0] = dark
        for window in app.topLevelWidgets():  # the app keeps Fusion; its windows add the fields
            if window.property(THEMED):
                window.setStyleSheet(field_style())

    refresh()
    global _following
    if _following is not app:
        app.styleHints().colorSchemeChanged.connect(refresh)
        _following = app
    return os_prefers_dark()


# The pump tile's colours, per scheme: each meets 4.5:1 against the card (the palette's Base),
# so they serve as text as well as icons (tests/app/integration/test_tile.py checks it).
TILE_COLORS = {
    False: {"on": "#1b6e3a", "muted": "#5b636e", "alert": "#b3261e", "accent": BRAND,
            "card": _LIGHT["Base"], "border": "#d3d9e1"},
    True: {"on": "#6fcf8f", "muted": "#a3acb8", "alert": "#ff8f85", "accent": "#7ab3f5",
           "card": _DARK["Base"], "border": "#3a414b"},
}  # fmt: skip


def is_dark(pal: QPalette) -> bool:
    """Whether a widget's palette is the dark one (its window is dark)."""
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


def tile_colors(pal: QPalette) -> dict[str, str]:
    return TILE_COLORS[is_dark(pal)]
