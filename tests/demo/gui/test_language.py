"""The app speaks Spanish when chosen (or when the OS does), English otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QSettings

from pooldesk.ui import format as fmt
from pooldesk.ui.controllers.dashboard import DashboardController
from pooldesk.ui.i18n import SETTING, install_translator, save_choice
from pooldesk.ui.views.auth_views import SignInView
from pooldesk.ui.views.dashboard_view import DashboardView


@pytest.fixture
def spanish(qapp):
    assert install_translator(qapp, "es") == "es"
    yield
    install_translator(qapp, "en")


def test_the_sign_in_screen_speaks_spanish(spanish, qtbot) -> None:
    view = SignInView()
    qtbot.addWidget(view)
    assert view.sign_in_button.text() == "Iniciar sesión"
    assert view.register_button.text() == "Crear una cuenta"
    assert QSettings().value(SETTING) == "es"  # remembered for the next start


def test_strings_from_helpers_and_controllers_are_found_too(spanish, qtbot) -> None:
    """Strings lupdate files under no context (`tr = self.tr`, module helpers) still resolve."""
    view = DashboardView()
    qtbot.addWidget(view)
    DashboardController(view)
    assert "Desconectado" in view.connection.text()  # DashboardController's `tr = self.tr`
    assert fmt.ago(None) == "nunca"  # format.py's translate("format", ...)
    assert fmt.core_message("Invalid username or password") == (
        "Nombre de usuario o contraseña incorrectos"
    )


def test_english_is_back_after_choosing_it(qapp, qtbot) -> None:
    install_translator(qapp, "es")
    assert install_translator(qapp, "en") == "en"
    view = SignInView()
    qtbot.addWidget(view)
    assert view.sign_in_button.text() == "Sign in"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="choose one of en, es, system"):
        save_choice("fr")


@pytest.mark.parametrize(("lang", "expected"), [("es_ES.UTF-8", "es"), ("de_DE.UTF-8", "en")])
def test_the_language_follows_the_system(lang, expected, tmp_path) -> None:
    code = (
        "from PySide6.QtCore import QCoreApplication, QSettings\n"
        "app = QCoreApplication([])\n"
        "QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "
        f"{str(tmp_path)!r})\n"
        "QSettings.setDefaultFormat(QSettings.Format.IniFormat)\n"
        "from pooldesk.ui.i18n import install_translator\n"
        "print(install_translator(app))\n"
        "print(QCoreApplication.translate('SignInView', 'Sign in'))\n"
    )
    env = {**os.environ, "LANG": lang, "LC_ALL": lang, "LANGUAGE": ""}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    language, title = done.stdout.split("\n")[:2]
    assert language == expected
    assert title == ("Iniciar sesión" if expected == "es" else "Sign in")
