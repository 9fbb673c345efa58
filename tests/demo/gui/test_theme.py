"""One look in light and dark: text stays readable on its background in both."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QPalette

from pooldesk.ui.theme import apply_theme


def _contrast(a, b) -> float:
    def luminance(c) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        r, g, b = channel(c.redF()), channel(c.greenF()), channel(c.blueF())
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_palette_follows_the_scheme_and_stays_readable(scheme, qapp, monkeypatch) -> None:
    monkeypatch.setenv("POOLDESK_THEME", scheme)
    assert apply_theme(qapp) is (scheme == "dark")
    palette = qapp.palette()
    window = palette.color(QPalette.ColorRole.Window)
    assert (window.lightness() < 128) is (scheme == "dark")
    for text, background in (
        (QPalette.ColorRole.WindowText, QPalette.ColorRole.Window),
        (QPalette.ColorRole.Text, QPalette.ColorRole.Base),
        (QPalette.ColorRole.ButtonText, QPalette.ColorRole.Button),
        (QPalette.ColorRole.HighlightedText, QPalette.ColorRole.Highlight),
    ):
        assert _contrast(palette.color(text), palette.color(background)) >= 4.5  # WCAG AA
    assert qapp.style().name().lower() == "fusion"
    monkeypatch.delenv("POOLDESK_THEME")
    apply_theme(qapp)
