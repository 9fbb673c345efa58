"""Access to the shared test vectors in tests/vectors/ (made by
pooldesk_firmware/tools/make_vectors.py)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

VECTORS_DIR = Path(__file__).resolve().parents[1] / "vectors"


@cache
def load(name: str) -> dict[str, Any]:
    return json.loads((VECTORS_DIR / f"{name}.json").read_text())


def h(value: str) -> bytes:
    return bytes.fromhex(value)
