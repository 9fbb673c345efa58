"""UTC ISO-8601 times in and out of the API."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime | None:
    """An aware UTC datetime, or None when the text is not ISO-8601 with a time zone."""
    if not isinstance(text, str) or not 10 <= len(text) <= 40:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        return None
    try:
        value = value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    if not 1970 <= value.year <= 9998:
        return None
    return value
