"""AppSettings kept in QSettings (the platform's own settings store)."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from pooldesk.core.settings import DEFAULT_SERVER_URL, AppSettings


def _bool(value: object, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes")


class SettingsStore:
    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._q = qsettings or QSettings()

    def load(self) -> AppSettings:
        q = self._q
        return AppSettings(
            server_url=str(q.value("server/url", DEFAULT_SERVER_URL)),
            allow_insecure=_bool(q.value("server/allowInsecure"), False),
            notifications=_bool(q.value("ui/notifications"), True),
            server_confirmed=_bool(q.value("server/confirmed"), False),
            temperature_unit=str(q.value("ui/temperatureUnit", "") or ""),
            local_server=str(q.value("server/local", "") or ""),
        )

    def save(self, settings: AppSettings) -> None:
        q = self._q
        q.setValue("server/url", settings.server_url)
        q.setValue("server/allowInsecure", settings.allow_insecure)
        q.setValue("ui/notifications", settings.notifications)
        q.setValue("server/confirmed", settings.server_confirmed)
        q.setValue("ui/temperatureUnit", settings.temperature_unit)
        q.setValue("server/local", settings.local_server)
        q.sync()
