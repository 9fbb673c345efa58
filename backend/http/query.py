"""Query-string parameters."""

from __future__ import annotations

from starlette.requests import Request

from backend.http.errors import validation_error


def int_param(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise validation_error(f"{name} must be a whole number from {low} to {high}")
    return int(raw)
