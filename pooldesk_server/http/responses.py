"""Success responses: `{"ok": true, ...}`, encoded with msgspec (several times faster than the
standard library's json on the long history pages)."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.responses import Response


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return msgspec.json.encode(content)


def answer(value: msgspec.Struct, http_status: int = 200) -> JSON:
    """A typed answer (pooldesk.core.api_types), encoded as the OpenAPI document says."""
    return JSON(value, status_code=http_status)
