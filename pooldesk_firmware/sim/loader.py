"""Load the firmware of one simulated unit into a module table of its own.

The firmware (`pooldesk_firmware/device/*.py`) is MicroPython code with flat module names
(`import fw_store`, `import machine`, `import time`). Under CPython each simulated unit gets a
`FirmwareImage`: every firmware file it imports is executed into a fresh module namespace
whose ``__builtins__`` carries the image's own ``__import__``, which resolves names against
that unit's table:

- ``sys`` is the unit's own: ``sys.path`` is its module search path (the device folder, and a
  version folder first after an update, as ``fw_boot.run()`` arranges on the board) and
  ``sys.modules`` its table of firmware modules (``fw_boot`` and ``fw_ota`` pop from it);
- ``time`` is MicroPython's (`host/mptime.py`: ``ticks_ms`` on the unit's clock...);
- ``machine``, ``network``, ``ntptime``, ``onewire``, ``ds18x20``, ``cryptolib``,
  ``bluetooth`` are the host stand-ins in `host/`, executed once per unit;
- a few standard modules MicroPython also has (``json``, ``os``, ``asyncio``...) are CPython's;
  anything else raises ImportError, as it would on the board.

Nothing is added to the process's ``sys.path`` or ``sys.modules``, and CPython's ``time`` is
left alone: two units in one process share no module state, and the app or test that runs
them sees its own modules only. Code objects are compiled once per file and shared.
"""

from __future__ import annotations

import builtins
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pooldesk_firmware.sim.device import SimDevice

DEVICE_DIR = Path(__file__).resolve().parent.parent / "device"
HOST_DIR = Path(__file__).resolve().parent / "host"

# MicroPython-only modules: a stand-in from HOST_DIR per unit (the file name when it differs).
STAND_INS: Mapping[str, str] = {
    "time": "mptime",
    "machine": "machine",
    "network": "network",
    "ntptime": "ntptime",
    "onewire": "onewire",
    "ds18x20": "ds18x20",
    "cryptolib": "cryptolib",
    "bluetooth": "bluetooth",
}

# Modules of the ESP32 port whose CPython namesakes behave alike where the firmware uses them.
HOST_MODULES = frozenset(
    {
        "array",
        "asyncio",
        "binascii",
        "collections",
        "errno",
        "gc",
        "hashlib",
        "heapq",
        "io",
        "json",
        "math",
        "os",
        "random",
        "re",
        "select",
        "socket",
        "ssl",
        "struct",
    }
)

_code_cache: dict[Path, tuple[int, types.CodeType]] = {}


def _code(path: Path) -> types.CodeType:
    """The compiled file, recompiled when it changed (a test may write a version folder)."""
    stamp = path.stat().st_mtime_ns
    cached = _code_cache.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    code = compile(path.read_bytes(), str(path), "exec", dont_inherit=True)
    _code_cache[path] = (stamp, code)
    return code


class FirmwareImage:
    """The modules of one simulated unit (one boot of it: a reboot starts a new image).

    device: the unit's simulated hardware; `time.ticks_ms()` reads its clock. Without one
    (a test calling firmware functions directly) ticks come from the host's monotonic clock.
    The other stand-ins find their hardware through `pooldesk_firmware.sim.context.DEVICE`.
    path: the module search path, the device folder by default.
    on_load(name, module): called after each firmware module is executed (the simulator
    points `fw_log.sink` at its logging).
    """

    def __init__(
        self,
        device: SimDevice | None = None,
        path: Sequence[str | Path] = (DEVICE_DIR,),
        on_load: Callable[[str, types.ModuleType], None] | None = None,
    ) -> None:
        self.device = device
        self._on_load = on_load
        self.sys = types.ModuleType("sys")
        self.sys.path = [str(p) for p in path]  # type: ignore[attr-defined]
        self.sys.modules = {}  # type: ignore[attr-defined]
        for name in ("byteorder", "maxsize", "stdout", "stderr", "stdin"):
            setattr(self.sys, name, getattr(sys, name))
        self.sys.platform = "esp32"  # type: ignore[attr-defined]
        self.sys.exit = sys.exit  # type: ignore[attr-defined]
        self.sys.print_exception = _print_exception  # type: ignore[attr-defined]
        self._stand_ins: dict[str, types.ModuleType] = {}
        self._firmware_builtins = dict(vars(builtins), __import__=self._import_firmware)
        self._stand_in_builtins = dict(vars(builtins), __import__=self._import_stand_in)

    @property
    def modules(self) -> dict[str, types.ModuleType]:
        """The unit's ``sys.modules``: the firmware modules imported so far."""
        modules: dict[str, types.ModuleType] = self.sys.modules
        return modules

    def module(self, name: str) -> Any:
        """Import firmware module `name` in this unit, as `import name` in its code would."""
        return self._resolve(name)

    # ---- the import statement of the unit's code ----

    def _import_firmware(self, name: str, *args: Any, **kwargs: Any) -> types.ModuleType:
        """``__import__(name, globals, locals, fromlist, level)`` of the firmware's code."""
        if _level(args, kwargs) or "." in name:
            raise ImportError(f"no module named {name!r} (firmware modules are flat)")
        return self._resolve(name)

    def _import_stand_in(self, name: str, *args: Any, **kwargs: Any) -> types.ModuleType:
        """Stand-ins are host code: host modules, except the unit's other stand-ins
        (``ds18x20`` uses its ``onewire``)."""
        if name in STAND_INS and name != "time" and not _level(args, kwargs):
            return self._stand_in(name)
        return builtins.__import__(name, *args, **kwargs)

    def _resolve(self, name: str) -> types.ModuleType:
        if name == "sys":
            return self.sys
        if name in STAND_INS:
            return self._stand_in(name)
        module = self.modules.get(name)
        if module is not None:
            return module
        for folder in self.sys.path:
            if not isinstance(folder, str):
                continue
            path = Path(folder) / f"{name}.py"
            if path.is_file():
                return self._load_firmware(name, path)
        if name in HOST_MODULES:
            return builtins.__import__(name)
        raise ImportError(f"no module named {name!r}")

    def _load_firmware(self, name: str, path: Path) -> types.ModuleType:
        module = self._new_module(name, path, self._firmware_builtins)
        self.modules[name] = module  # before running it, as Python does (circular imports)
        try:
            exec(_code(path), module.__dict__)  # noqa: S102 - executing the firmware is the point
        except BaseException:
            self.modules.pop(name, None)
            raise
        if self._on_load is not None:
            self._on_load(name, module)
        return module

    def _stand_in(self, name: str) -> types.ModuleType:
        module = self._stand_ins.get(name)
        if module is None:
            path = HOST_DIR / f"{STAND_INS[name]}.py"
            module = self._new_module(name, path, self._stand_in_builtins)
            self._stand_ins[name] = module
            try:
                exec(_code(path), module.__dict__)  # noqa: S102 - a stand-in of a board module
            except BaseException:
                del self._stand_ins[name]
                raise
            module.__dict__["UNIT"] = self  # the unit whose hardware it stands in for
        return module

    @staticmethod
    def _new_module(name: str, path: Path, builtins_: dict[str, Any]) -> types.ModuleType:
        module = types.ModuleType(name)
        module.__file__ = str(path)
        module.__dict__["__builtins__"] = builtins_
        return module


def _level(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    level: int = kwargs.get("level", args[3] if len(args) > 3 else 0)
    return level


def _print_exception(exc: BaseException, file: Any = None) -> None:
    """MicroPython's ``sys.print_exception(exc, file=sys.stdout)``."""
    import traceback

    traceback.print_exception(exc, file=file or sys.stdout)
