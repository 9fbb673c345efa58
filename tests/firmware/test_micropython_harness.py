"""The MicroPython harness itself: the real interpreter, failures shown with its traceback."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import micropython


def test_the_interpreter_is_the_real_micropython(tmp_path: Path) -> None:
    script = tmp_path / "which.py"
    script.write_text(
        "import sys, json\n"
        "print(json.dumps({'name': sys.implementation.name,"
        " 'version': list(sys.implementation.version[:2])}))\n"
    )
    result = micropython.run(script)
    assert result.returncode == 0, result.transcript()
    info = __import__("json").loads(result.stdout.strip().splitlines()[-1])
    assert info["name"] == "micropython"
    assert info["version"] >= [1, 27]


def test_a_failing_case_reports_micropythons_traceback(tmp_path: Path) -> None:
    script = tmp_path / "failing.py"
    script.write_text(
        "from mpyunit import case, main\n"
        "@case\n"
        "def broken():\n"
        "    class E(Exception):\n"
        "        def __init__(self, m):\n"
        "            Exception.__init__(self, m)\n"
        "    raise E('x')\n"
        "main()\n"
    )
    assert micropython.cases(script) == ["broken"]
    with pytest.raises(AssertionError) as info:
        micropython.run_case(script, "broken")
    # the documented MicroPython difference (cpydiff types_exception_subclassinit)
    assert "AttributeError" in str(info.value)
    assert "failing.py" in str(info.value)


def test_no_firmware_exception_calls_a_base_class_init_directly() -> None:
    """`Exception.__init__(self, m)` raises AttributeError on MicroPython: super() only."""
    offenders = []
    for path in sorted(micropython.DEVICE_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "__init__"
                and isinstance(node.func.value, ast.Name)
            ):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []
