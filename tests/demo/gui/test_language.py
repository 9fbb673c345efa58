"""The app speaks Spanish when chosen (or when the OS does), English otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QSettings

from pooldesk.core.failures import Code, failure
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
    assert fmt.core_message(failure(Code.WRONG_CREDENTIALS)) == (
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


# -- choosing the language on the account page ---------------------------------------------------


def test_the_account_page_remembers_the_language_for_the_next_start(qapp, qtbot) -> None:
    from PySide6.QtCore import Qt

    from pooldesk.ui.controllers.account import AccountController
    from pooldesk.ui.views.account_view import AccountView

    assert install_translator(qapp, "en") == "en"
    view = AccountView()
    qtbot.addWidget(view)
    AccountController(view)
    view.show()
    assert [view.language.itemText(i) for i in range(3)] == [
        "Same as the system",
        "English",
        "Español",
    ]
    view.show_language("en")
    assert not view.language_note.isVisible()

    qtbot.keyClick(view.language, Qt.Key.Key_Down)  # English -> Español, as a user would
    assert view.language.currentText() == "Español"
    assert QSettings().value(SETTING) == "es"
    assert view.language_note.isVisible()
    assert "next start" in view.language_note.text()
    assert view.back_button.text() == "← Dashboard"  # this run keeps its language

    qtbot.keyClick(view.language, Qt.Key.Key_Up)  # back to the language in use
    assert QSettings().value(SETTING) == "en"
    assert not view.language_note.isVisible()

    qtbot.keyClick(view.language, Qt.Key.Key_Down)
    try:
        assert install_translator(qapp) == "es"  # what the next start does
        again = SignInView()
        qtbot.addWidget(again)
        assert again.sign_in_button.text() == "Iniciar sesión"
        fresh = AccountView()
        qtbot.addWidget(fresh)
        fresh.show_language(QSettings().value(SETTING))
        assert fresh.language.currentText() == "Español"
        assert fresh.language.itemText(0) == "El del sistema"
    finally:
        install_translator(qapp, "en")


def test_system_is_offered_and_saved_too(qapp, qtbot) -> None:
    from pooldesk.ui.controllers.account import AccountController
    from pooldesk.ui.views.account_view import AccountView

    install_translator(qapp, "es")
    install_translator(qapp, "en")
    view = AccountView()
    qtbot.addWidget(view)
    AccountController(view)
    view.show_language("es")
    view.language.activated.emit(0)  # what picking the first entry sends
    assert QSettings().value(SETTING) == "system"


# -- messages that carry values ------------------------------------------------------------------


async def test_core_messages_with_values_speak_spanish(spanish) -> None:
    from pooldesk.core.backend_client import BackendClient, NetworkError
    from pooldesk.core.settings import UnsafeUrlError, check_server_url
    from pooldesk.core.validation import password_error
    from pooldesk.provisioning.claimcode import parse
    from pooldesk.provisioning.errors import InvalidClaimCode
    from tests.support.ports import free_port

    with pytest.raises(UnsafeUrlError) as unsafe:
        check_server_url("http://pool.example.com", allow_insecure=False)
    assert fmt.core_message(unsafe.value.failure).startswith(
        "http:// hacia pool.example.com no está cifrado."
    )
    assert fmt.core_message(password_error("abc")) == (
        "A la contraseña le falta: al menos 12 caracteres, una letra mayúscula, una cifra, "
        "un símbolo como ! o #."
    )
    with pytest.raises(InvalidClaimCode) as short:
        parse("ABCD-EFGH")
    assert fmt.core_message(short.value.failure) == (
        "Un código de reclamación tiene 16 letras y cifras (como KQ4M-7XTZ-2PB6-WRHD); "
        "este tiene 8."
    )
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    client = BackendClient(url)
    try:
        with pytest.raises(NetworkError) as unreachable:
            await client.login("someone", "Secret-Password-1!")
    finally:
        await client.aclose()
    shown = fmt.core_message(unreachable.value.failure)
    assert shown.startswith(f"No se puede conectar con el servidor en {url}. Comprueba")
    assert "Error" not in shown  # no exception class names
    assert shown.endswith("Comprueba la dirección y que el servidor esté en marcha.")
    # a failure inside a failure is worded too; the server's own words stay as it wrote them
    server_said = failure(Code.SERVER_SAID, message="Session ended")
    assert fmt.core_message(failure(Code.BROKER_NO_CREDENTIALS, cause=server_said)) == (
        "No se pudieron obtener las credenciales del bróker: Session ended"
    )
    assert fmt.core_message("Something new 5.") == "Something new 5."


def test_what_a_cancel_could_not_undo_is_said_in_spanish(spanish) -> None:
    """A cancel that could neither undo the settings nor the registration reports both."""
    kept = failure(Code.KEPT_SETTINGS_LINK_ENDED, device="ESP-A1B2C3")
    removed = failure(
        Code.DEVICE_NOT_REMOVED, device="ESP-A1B2C3", cause=failure(Code.SESSION_ENDED)
    )
    assert fmt.core_message(kept).startswith(
        "ESP-A1B2C3 se quedó con la configuración que se le envió"
    )
    assert fmt.core_message(removed) == (
        "No se pudo quitar ESP-A1B2C3 de tu cuenta (Tu sesión ha terminado. Vuelve a iniciar "
        "sesión). Quítalo desde el panel."
    )
    # in English too (the logs), a cause inside the sentence keeps no full stop of its own
    assert str(removed) == (
        "ESP-A1B2C3 could not be removed from your account (Your session has ended. Sign in "
        "again). Remove it from the dashboard."
    )
