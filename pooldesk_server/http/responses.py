"""Success responses: `{"ok": true, ...}`."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse


def ok(http_status: int = 200, /, **fields: Any) -> JSONResponse:
    return JSONResponse({"ok": True, **fields}, status_code=http_status)
