"""No user-visible text in `pooldesk/ui` bypasses Qt's translation system, and the Spanish
catalogue covers every string the code asks to translate."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
UI = REPO / "pooldesk" / "ui"

# Qt calls and widget constructors whose string arguments a person reads.
SHOWS_TEXT = {
    "setText",
    "setWindowTitle",
    "setToolTip",
    "setPlaceholderText",
    "setStatusTip",
    "setWhatsThis",
    "addItem",
    "addItems",
    "insertItem",
    "addTab",
    "setTabText",
    "setTitle",
    "showMessage",
    "addRow",
    "addAction",
    "addMenu",
    "setHeaderLabels",
    "setHorizontalHeaderLabels",
    "setLabelText",
    "setSuffix",
    "setPrefix",
    "setSpecialValueText",
    "show_error",
    "show_info",
    "QLabel",
    "QPushButton",
    "QCheckBox",
    "QRadioButton",
    "QGroupBox",
    "QAction",
    "QMenu",
    "QToolButton",
    "QMessageBox",
}
# Proper names, units and symbols that read the same in every language, markup, and the
# examples placeholders show (an address, a device id from a label).
NOT_WORDS = {"PoolDesk", "°C", "dBm", "Wi-Fi", "OK"}
NOT_LANGUAGE = re.compile(r"<[^>]*>|\S+://\S*|ESP-[0-9A-F]{6}")


def _has_words(text: str) -> bool:
    stripped = NOT_LANGUAGE.sub("", text)
    for token in NOT_WORDS:
        stripped = stripped.replace(token, "")
    return any(c.isalpha() for c in stripped)


def _literal_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    return None


def untranslated_strings(root: Path) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in SHOWS_TEXT:
                continue
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                text = _literal_text(arg)
                if text is not None and _has_words(text):
                    where = path.relative_to(root)
                    problems.append(f"{where}:{node.lineno}: {name}({text!r})")
    return problems


def test_the_scanner_finds_a_bare_string(tmp_path) -> None:
    (tmp_path / "view.py").write_text(
        "label = QLabel('Water temperature')\n"
        "label.setText(self.tr('Pump'))\n"
        "button.setToolTip(f'Run for {n} minutes')\n"
        "title.setText('— °C')\n"
    )
    found = untranslated_strings(tmp_path)
    assert len(found) == 2
    assert "Water temperature" in found[0]
    assert "Run for" in found[1]


def test_no_user_visible_string_bypasses_translation() -> None:
    assert untranslated_strings(UI) == []


def test_the_spanish_catalogue_covers_every_string() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "translations.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
