"""Run `tools/screenshots.py` with the app's look and language, as the app starts them.

    .venv/bin/python tools/screenshots_variants.py

docs/screenshots/          light, English (the default look)
docs/screenshots/es-dark/  dark, Spanish (the OS's dark scheme and language, forced here)

Each variant runs in its own process (one QApplication each) with private settings.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = (
    ("en", "light", ROOT / "docs" / "screenshots"),
    ("es", "dark", ROOT / "docs" / "screenshots" / "es-dark"),
)

RUN_ONE = """
import runpy, sys
from PySide6.QtCore import QCoreApplication, QSettings
from PySide6.QtWidgets import QApplication
language, settings_dir, out, script = sys.argv[1:5]
app = QApplication([])
QCoreApplication.setOrganizationName("PoolDeskScreenshots")
QSettings.setDefaultFormat(QSettings.Format.IniFormat)
QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir)
from pooldesk.ui.i18n import install_translator
from pooldesk.ui.theme import apply_theme
apply_theme(app)
install_translator(app, language)
sys.argv = [script, "--out", out]
runpy.run_path(script, run_name="__main__")
"""


def main() -> int:
    for language, theme, out in VARIANTS:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as settings_dir:
            env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "POOLDESK_THEME": theme}
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    RUN_ONE,
                    language,
                    settings_dir,
                    str(out),
                    str(ROOT / "tools" / "screenshots.py"),
                ],
                env=env,
                cwd=ROOT,
                check=False,
            )
        if done.returncode not in (0, None):
            print(f"screenshots for {language}/{theme} failed", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
