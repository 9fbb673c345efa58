"""Human wording for times and states, through Qt's translation system."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QCoreApplication, QLocale

from pooldesk.core.failures import Failure, Message
from pooldesk.ui.failure_texts import failure_text


def tr(text: str) -> str:
    return QCoreApplication.translate("format", text)


def number(value: float, decimals: int = 1) -> str:
    """A number as the language on screen writes it: 24.7 in English, 24,7 in Spanish."""
    return QLocale().toString(float(value), "f", decimals)


_unit = ["C"]  # the unit temperatures are shown in: set_temperature_unit()


def set_temperature_unit(choice: str) -> None:
    """ "C", "F", or "" for the system's measurement system (°F in the US system)."""
    if choice not in ("C", "F"):
        us = QLocale.system().measurementSystem() == QLocale.MeasurementSystem.ImperialUSSystem
        choice = "F" if us else "C"
    _unit[0] = choice


def temperature_unit() -> str:
    return _unit[0]


def celsius(value: float) -> str:
    """A temperature measured in °C, shown in the chosen unit."""
    if _unit[0] == "F":
        return f"{number(value * 9 / 5 + 32, 1)} °F"
    return f"{number(value, 1)} °C"


def no_temperature() -> str:
    return "— °F" if _unit[0] == "F" else "— °C"


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


def time_left(seconds: float) -> str:
    """A short remaining time: "1 h 20 min", "25 min", "under a minute"."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return tr("under a minute")
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return tr("{m} min").format(m=minutes)
    if not minutes:
        return tr("{h} h").format(h=hours)
    return tr("{h} h {m} min").format(h=hours, m=minutes)


def run_duration(value: timedelta) -> str:
    """A run time: "0 min", "25 min", "2 h", "2 h 5 min"."""
    hours, minutes = divmod(int(value.total_seconds()) // 60, 60)
    if not hours:
        return tr("{m} min").format(m=minutes)
    if not minutes:
        return tr("{h} h").format(h=hours)
    return tr("{h} h {m} min").format(h=hours, m=minutes)


def uptime(value: timedelta) -> str:
    """How long a controller has been running: "12 min", "5 h 10 min", "3 d 4 h"."""
    minutes = int(value.total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return tr("{d} d {h} h").format(d=days, h=hours)
    return run_duration(value)


def day(moment: datetime) -> str:
    """ "today", "tomorrow" or the weekday's short name in the language in use, local time."""
    local = moment.astimezone().date()
    today = datetime.now().astimezone().date()
    if local == today:
        return tr("today")
    if (local - today).days == 1:
        return tr("tomorrow")
    return QLocale().dayName(local.isoweekday(), QLocale.FormatType.ShortFormat)


def mode_name(mode: str) -> str:
    return {
        "manual": tr("manual"),
        "schedule": tr("schedule"),
        "timer": tr("timer"),
        "freeze": tr("freeze protection"),
    }.get(mode, mode)


def role_name(role: str) -> str:
    return {
        "owner": tr("owner"),
        "operator": tr("operator"),
        "viewer": tr("viewer"),
        "installer": tr("installer"),
    }.get(role, role)


def core_message(text: Message) -> str:
    """A core failure through its code's text (`failure_texts.TEXTS`); any other text (the
    server's or the controller's own words, for which this app has no code) as it is."""
    if isinstance(text, Failure):
        return failure_text(text, celsius)
    return text
