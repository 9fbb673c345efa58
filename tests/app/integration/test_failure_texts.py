"""Core failures reach the screen through one table (pooldesk/ui/failure_texts.py): every code
has words, in English and in Spanish, with the values it carries; and real failures (a server
that is not there, a wrong password, a broker that refuses the login) show those words on the
real widgets."""

from __future__ import annotations

import threading
from string import Formatter

import pytest
from PySide6.QtCore import QCoreApplication, Qt

from pooldesk.core.controller_refusals import rejection_failure
from pooldesk.core.failures import ENGLISH, Code, failure
from pooldesk.core.models import MqttCredentials
from pooldesk.core.mqtt_link import LinkState
from pooldesk.ui import format as fmt
from pooldesk.ui import i18n
from pooldesk.ui.failure_texts import CONTEXT, TEXTS
from pooldesk_contract.rejections import Field, Rejection
from tests.app.helpers import Mosquitto, register_user
from tests.support.ports import free_port
from tests.support.waiting import wait_until


def _names(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}


@pytest.fixture
def spanish(qapp):
    assert i18n.install_translator(qapp, "es") == "es"
    yield
    i18n.install_translator(qapp, "en")


def test_every_code_has_one_text_naming_the_values_the_core_gives() -> None:
    for code in Code:
        assert code in TEXTS, code
        assert code in ENGLISH, code
        assert _names(TEXTS[code]) == _names(ENGLISH[code]), code
    assert len(set(TEXTS.values())) == len(TEXTS)  # one wording per advice, said once


def test_every_text_is_translated_to_spanish_keeping_its_values(spanish) -> None:
    for code in Code:
        if code is Code.SERVER_SAID:
            continue  # the server's own words
        source = TEXTS[code]
        spanish_text = QCoreApplication.translate(CONTEXT, source)
        assert spanish_text != source, code
        assert _names(spanish_text) == _names(source), code


def test_a_cause_inside_a_failure_is_worded_too(spanish) -> None:
    cause = failure(Code.SERVER_TIMEOUT, url="http://10.0.0.2:8788")
    shown = fmt.core_message(failure(Code.BROKER_NO_CREDENTIALS, cause=cause))
    assert shown == (
        "No se pudieron obtener las credenciales del bróker: El servidor en "
        "http://10.0.0.2:8788 no respondió a tiempo. Vuelve a intentarlo."
    )
    # No reason the app knows (an older server): the server's words as it wrote them, never
    # matched against English the app once knew.
    said = fmt.core_message(failure(Code.SERVER_SAID, message="Username already taken"))
    assert said == "Username already taken"
    unknown = fmt.core_message(failure(Code.SERVER_SAID, message="Ask Bob to unlock pool 3"))
    assert unknown == "Ask Bob to unlock pool 3"


def test_a_provisioning_failure_given_as_a_reason_is_worded_in_spanish(spanish) -> None:
    """What a cancelled pass could not undo names why: a code of its own, translated in place."""
    lost = failure(Code.BLUETOOTH_LINK_LOST)
    shown = fmt.core_message(failure(Code.KEPT_WIFI_UNDO_FAILED, device="ESP-A1B2C3", reason=lost))
    assert shown == (
        "ESP-A1B2C3 se quedó con la configuración wifi que se le envió, porque no se pudo "
        "deshacer (Se perdió la conexión Bluetooth con el controlador. Comprueba que tenga "
        "corriente, acércate y vuelve a elegirlo en la lista). Usa «Cambiar la wifi…» para "
        "volver a configurar su red."
    )


async def _sign_in_with(app, username: str, password: str, qtbot) -> None:
    view = app.window.sign_in_view
    await wait_until(lambda: app.window.page is view, what="the sign-in page")
    view.username.setText(username)
    view.password.setText(password)
    qtbot.keyClick(view.password, Qt.Key.Key_Return)
    await wait_until(lambda: view.error.isVisible(), what="the refusal")


async def test_an_unreachable_server_is_said_in_spanish(make_app, spanish, qtbot) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    app = make_app(url)
    await app.start()
    await _sign_in_with(app, "someone", "Whatever-it-is-1!", qtbot)
    assert app.window.sign_in_view.error.text() == (
        f"No se puede conectar con el servidor en {url}. Comprueba la dirección y que el "
        "servidor esté en marcha."
    )


async def test_a_wrong_password_is_said_in_spanish(make_app, backend, spanish, qtbot) -> None:
    user = await register_user(backend.url)
    app = make_app(backend.url)
    await app.start()
    await _sign_in_with(app, user["username"], "Wrong-password-1!", qtbot)
    assert app.window.sign_in_view.error.text() == "Nombre de usuario o contraseña incorrectos"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            "The broker refused the login. Sign out and in again, or ask the server's "
            "administrator to check the broker.",
        ),
        (
            "es",
            "El bróker rechazó el inicio de sesión. Cierra la sesión y vuelve a entrar, o pide "
            "al administrador del servidor que revise el bróker.",
        ),
    ],
)
async def test_a_broker_that_refuses_the_login_is_said_on_the_dashboard(
    make_app, backend, qapp, tmp_path, language, expected
) -> None:
    broker = Mosquitto(tmp_path, passwords={"someone-else": "right-password-1"})
    broker.start()
    i18n.install_translator(qapp, language)
    try:
        user = await register_user(backend.url)
        app = make_app(backend.url)

        async def refused_login() -> MqttCredentials:  # a login this broker does not know
            return MqttCredentials(
                user=user["username"],
                password="not-the-password",
                client_id=f"app-{user['username']}",
                topic_prefix=f"users/{user['username']}",
                broker_url=f"mqtt://127.0.0.1:{broker.port}",
            )

        app.dashboard.credentials_source = refused_login
        await app.start()
        await app.session.sign_in(user["username"], user["password"])
        await wait_until(
            lambda: app.dashboard.link and app.dashboard.link.status.state is LinkState.REFUSED,
            what="the refusal",
        )
        notice = app.window.dashboard_view.notice
        await wait_until(lambda: notice.text() == expected, what="the refusal on screen")
    finally:
        i18n.install_translator(qapp, "en")
        broker.stop()


def test_a_long_foreign_text_is_shown_as_it_is_without_freezing_the_window(spanish) -> None:
    """A long text that is none of ours (a proxy's error page, a controller's words) is shown
    as it is, at once: cutting it into sentences to match each once froze the window."""
    long_text = " ".join(f"Upstream line {i} failed. Retry later." for i in range(20))
    shown: list[str] = []
    # the bound is the assertion (no freeze), not a speed figure; a daemon thread, so a frozen
    # wording cannot keep the test run from ending
    worker = threading.Thread(target=lambda: shown.append(fmt.core_message(long_text)), daemon=True)
    worker.start()
    worker.join(20)
    assert shown == [long_text]


def test_a_refusal_without_a_reason_is_said_in_the_apps_words(spanish) -> None:
    """A controller that refuses a command without a reason: the app says so itself, in the
    language on screen; a refusal code is worded from the table, and a reason without a code
    (older firmware) is the controller's own words, never matched against English."""
    none = fmt.core_message(failure(Code.COMMAND_REFUSED, reason=failure(Code.NO_REASON_GIVEN)))
    assert "sin motivo indicado" in none
    coded = failure(Code.COMMAND_REFUSED, reason=failure(Code.FREEZE_KEEPS_PUMP_ON))
    assert fmt.core_message(coded) == (
        "El controlador se negó: la protección antiheladas está en marcha y mantiene la bomba "
        "encendida."
    )
    said = fmt.core_message(failure(Code.COMMAND_REFUSED, reason="freeze protection active"))
    assert said == "El controlador se negó: freeze protection active."


@pytest.mark.parametrize(
    ("code", "field"),
    [(code, None) for code in Rejection] + [(Rejection.INVALID, field) for field in Field],
)
def test_every_refusal_code_of_the_contract_is_said_in_spanish(spanish, code, field) -> None:
    """Each code and field a controller may refuse a command with (pooldesk_contract.rejections)
    has the app's own sentence: the controller's English `reason` is never what is shown."""
    event = {"type": "command_rejected", "cmd_id": "C1", "code": code, "reason": "English words"}
    if field is not None:
        event["field"] = field
    shown = fmt.core_message(rejection_failure(event))
    assert "English words" not in shown
    assert "sin motivo indicado" not in shown
    assert shown != str(rejection_failure(event))  # translated, not the English log text
