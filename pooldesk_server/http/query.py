"""Query-string parameters."""

from __future__ import annotations

from starlette.requests import Request

from pooldesk_server.http.errors import validation_error

# Enough digits for any bound the API uses (< 2**63); longer text is refused before int() reads
# it (int() of thousands of digits is slow, and past 4300 digits it raises).
MAX_DIGITS = 19


def int_param(request: Request, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if (
        len(raw) > MAX_DIGITS
        or not (raw.isascii() and raw.isdigit())
        or not low <= int(raw) <= high
    ):
        raise validation_error(f"{name} must be a whole number from {low} to {high}")
    return int(raw)
