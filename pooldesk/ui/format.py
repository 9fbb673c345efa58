"""Human wording for times and states, through Qt's translation system."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QCoreApplication


def tr(text: str) -> str:
    return QCoreApplication.translate("format", text)


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    if moment is None:
        return tr("never")
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 10:
        return tr("just now")
    if seconds < 60:
        return tr("{n} s ago").format(n=seconds)
    if seconds < 3600:
        return tr("{n} min ago").format(n=seconds // 60)
    if seconds < 86400:
        return tr("{n} h ago").format(n=seconds // 3600)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def clock(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%H:%M") if moment else ""


def when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else tr("unknown")


def duration(seconds: int) -> str:
    if seconds % 3600 == 0:
        return tr("{n} h").format(n=seconds // 3600)
    return tr("{n} min").format(n=seconds // 60)


def mode_name(mode: str) -> str:
    return {
        "manual": tr("manual"),
        "schedule": tr("schedule"),
        "timer": tr("timer"),
        "freeze": tr("freeze protection"),
    }.get(mode, mode)


def core_message(text: str) -> str:
    """Messages from the core (English) pass through the translator under their own context."""
    return QCoreApplication.translate("core", text)
