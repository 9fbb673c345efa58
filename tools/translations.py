"""Update the app's translation catalogues with PySide6's lupdate and lrelease.

    .venv/bin/python tools/translations.py            # update .ts files, then build .qm files
    .venv/bin/python tools/translations.py --check    # exit 1 if a catalogue misses a string

1. `pyside6-lupdate` extracts every `self.tr()` / `QCoreApplication.translate()` string from
   `pooldesk/ui` into a fresh catalogue.
2. lupdate's Python parser cannot see the context of `tr = self.tr; tr("...")` or of a module
   helper that calls `QCoreApplication.translate("format", ...)`: it files those under an empty
   context, where Qt would never find them at run time. They are moved to the context the code
   really uses: the enclosing class, or the module's single `translate("<context>", ...)`.
3. Translations already in `resources/translations/pooldesk_<lang>.ts` are carried over by
   (context, source), so the .ts files stay the place translators edit (Qt Linguist works).
4. `pyside6-lrelease` compiles each .ts to the .qm the app loads.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = REPO / "pooldesk" / "ui"
CATALOGUES = REPO / "resources" / "translations"
LANGUAGES = ("es",)
TRANSLATE_CALL = re.compile(r"""translate\(\s*["']([A-Za-z_][\w.]*)["']""")


def tool(name: str) -> str:
    """A PySide6 tool from the same virtual environment as this Python, or from PATH."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: install PySide6-Essentials in this environment")
    return found


def python_sources() -> list[Path]:
    return sorted(p for p in SOURCES.rglob("*.py") if "__pycache__" not in p.parts)


def enclosing_class(path: Path, line: int) -> str | None:
    tree = ast.parse(path.read_text("utf-8"))
    best: ast.ClassDef | None = None
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        inside = node.lineno <= line <= (node.end_lineno or 0)
        if inside and (best is None or node.lineno > best.lineno):
            best = node
    return best.name if best else None


def runtime_context(path: Path, line: int) -> str:
    """The context Qt will look the string up in, for a string lupdate left context-less."""
    cls = enclosing_class(path, line)
    if cls is not None:
        return cls
    contexts = set(TRANSLATE_CALL.findall(path.read_text("utf-8")))
    if len(contexts) == 1:
        return contexts.pop()
    raise SystemExit(f"{path}:{line}: cannot tell the translation context of this string")


def extract(language: str, workdir: Path) -> ET.ElementTree[ET.Element]:
    fresh = workdir / f"fresh_{language}.ts"
    subprocess.run(
        [
            tool("pyside6-lupdate"),
            *map(str, python_sources()),
            "-ts",
            str(fresh),
            "-target-language",
            language,
            "-locations",
            "absolute",
            "-no-obsolete",
        ],
        check=True,
        capture_output=True,
        cwd=REPO,
    )
    tree = ET.parse(fresh)  # noqa: S314 - lupdate's output, written just now
    fix_contexts(tree.getroot(), fresh.parent)
    return tree


def fix_contexts(root: ET.Element, base: Path) -> None:
    by_name: dict[str, ET.Element] = {}
    for context in list(root.findall("context")):
        name = context.findtext("name") or ""
        if name:
            by_name.setdefault(name, context)
    for context in list(root.findall("context")):
        if context.findtext("name"):
            continue
        for message in context.findall("message"):
            location = message.find("location")
            assert location is not None, "lupdate wrote a message without a location"
            path = (base / location.get("filename", "")).resolve()
            name = runtime_context(path, int(location.get("line", "0")))
            target = by_name.get(name)
            if target is None:
                target = ET.SubElement(root, "context")
                ET.SubElement(target, "name").text = name
                by_name[name] = target
            if not any(
                m.findtext("source") == message.findtext("source")
                for m in target.findall("message")
            ):
                target.append(message)
        root.remove(context)
    for context in root.findall("context"):  # stable order: by context name
        root.remove(context)
    for name in sorted(by_name):
        root.append(by_name[name])


def known_translations(path: Path) -> dict[tuple[str, str], ET.Element]:
    if not path.exists():
        return {}
    known = {}
    catalogue = ET.parse(path)  # noqa: S314 - the project's own catalogue
    for context in catalogue.getroot().findall("context"):
        name = context.findtext("name") or ""
        for message in context.findall("message"):
            translation = message.find("translation")
            if translation is not None and translation.get("type") != "unfinished":
                known[(name, message.findtext("source") or "")] = translation
    return known


def carry_over(
    tree: ET.ElementTree[ET.Element], known: dict[tuple[str, str], ET.Element]
) -> list[str]:
    """Copy known translations in; return the sources still untranslated."""
    missing = []
    by_source = {source: t for (_, source), t in known.items()}
    for context in tree.getroot().findall("context"):
        name = context.findtext("name") or ""
        for message in context.findall("message"):
            source = message.findtext("source") or ""
            old = known.get((name, source)) or by_source.get(source)
            translation = message.find("translation")
            assert translation is not None
            if old is not None:
                translation.text = old.text
                translation.attrib.pop("type", None)
            else:
                missing.append(f"{name}: {source}")
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report missing translations")
    args = parser.parse_args(argv)
    CATALOGUES.mkdir(parents=True, exist_ok=True)
    status = 0
    with tempfile.TemporaryDirectory() as tmp:
        for language in LANGUAGES:
            catalogue = CATALOGUES / f"pooldesk_{language}.ts"
            tree = extract(language, Path(tmp))
            missing = carry_over(tree, known_translations(catalogue))
            if missing:
                status = 1
                print(f"{catalogue.name}: {len(missing)} strings without a translation:")
                for line in missing:
                    print(f"  {line}")
            if args.check:
                continue
            for location in tree.getroot().iter("location"):  # relative to the catalogue
                source = (Path(tmp) / location.get("filename", "")).resolve()
                location.set("filename", str(Path("../..") / source.relative_to(REPO)))
            ET.indent(tree)
            tree.write(catalogue, encoding="utf-8", xml_declaration=True)
            subprocess.run(
                [
                    tool("pyside6-lrelease"),
                    str(catalogue),
                    "-qm",
                    str(catalogue.with_suffix(".qm")),
                ],
                check=True,
                capture_output=True,
            )
            print(f"{catalogue.relative_to(REPO)} and its .qm updated")
    return status if args.check else 0


if __name__ == "__main__":
    sys.exit(main())
