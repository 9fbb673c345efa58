"""The app's language: English or Spanish, following the OS unless the user chose one.

The choice is kept in QSettings (`ui/language`: `en`, `es`, or `system`). Catalogues are
`resources/translations/pooldesk_<lang>.qm`, built with PySide6's lupdate/lrelease
(`tools/translations.py`); Qt's own strings (standard buttons, dialogs) come from the
`qtbase_<lang>.qm` that ships with Qt.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QSettings, QTranslator

from pooldesk.ui.resource_files import resource

log = logging.getLogger(__name__)

LANGUAGES = {"en": "English", "es": "Español"}  # each in its own language
SOURCE_LANGUAGE = "en"
SETTING = "ui/language"
SYSTEM = "system"

_installed: list[QTranslator] = []
_in_use: list[str] = [SOURCE_LANGUAGE]  # the language the catalogues installed last speak


def system_language() -> str:
    """The OS's UI language if the app speaks it, else English."""
    for name in QLocale.system().uiLanguages():
        code = name.replace("_", "-").split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return SOURCE_LANGUAGE


def saved_choice() -> str:
    value = str(QSettings().value(SETTING, SYSTEM) or SYSTEM)
    return value if value in LANGUAGES or value == SYSTEM else SYSTEM


def save_choice(choice: str) -> None:
    """Remember `en`, `es` or `system`; raise ValueError for anything else."""
    choice = choice.strip().lower()
    if choice not in LANGUAGES and choice != SYSTEM:
        known = ", ".join([*LANGUAGES, SYSTEM])
        raise ValueError(f"Unknown language {choice!r}; choose one of {known}.")
    settings = QSettings()
    settings.setValue(SETTING, choice)
    settings.sync()


def chosen_language() -> str:
    choice = saved_choice()
    return system_language() if choice == SYSTEM else choice


def language_in_use() -> str:
    """The language of the catalogues installed now (the screens were built in it)."""
    return _in_use[0]


def install_translator(app: QCoreApplication, choice: str | None = None) -> str:
    """Load the catalogues for `choice` (saved for next time) or the saved choice; return the
    language in use. Replaces catalogues an earlier call installed."""
    if choice:
        save_choice(choice)
    language = chosen_language()
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    _in_use[0] = language
    # Numbers and dates follow the language on screen ("24,7" in Spanish), in the system's
    # own region when it speaks that language (es_MX stays es_MX).
    system = QLocale.system()
    same = QLocale.languageToCode(system.language()) == language
    QLocale.setDefault(system if same else QLocale(language))
    if language == SOURCE_LANGUAGE:
        return language
    own = QTranslator(app)
    if own.load(str(resource("translations", f"pooldesk_{language}.qm"))):
        app.installTranslator(own)
        _installed.append(own)
    else:
        log.warning("no %s catalogue in %s", language, resource("translations"))
    qt = QTranslator(app)
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if qt.load(f"qtbase_{language}", qt_dir):
        app.installTranslator(qt)
        _installed.append(qt)
    return language
