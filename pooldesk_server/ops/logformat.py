"""`POOLDESK_LOG_FORMAT=json`: one JSON object per log line, for log collectors.

Keys: `ts` (UTC, ISO 8601), `level`, `logger`, `message`, and `exception` when there is one.
The messages are the same as in text form (they never hold secrets)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def use_json_lines() -> None:
    """Every handler of the root logger writes JSON lines."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonFormatter())
