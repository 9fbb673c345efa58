"""Database layer: engine and sessions, models, migrations."""

from typing import Any, cast

from sqlalchemy import CursorResult, Result


def rows_changed(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched. Executing either returns a CursorResult, which
    SQLAlchemy's `execute` annotates as the general Result (that has no rowcount)."""
    return cast(CursorResult[Any], result).rowcount
