"""The app's own checks (fields as they are typed, a schedule's windows, a set-up code) reach
the real widgets as codes worded from the one table, in the language chosen: the views hold a
code, not English, and Spanish is shown where the English used to stay."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QWidget

from pooldesk.core.devices import Device
from pooldesk.core.failures import Code, failure
from pooldesk.ui import i18n
from pooldesk.ui.controllers.schedule import ScheduleController
from pooldesk.ui.views.auth_views import RegisterView


@pytest.fixture
def spanish(qapp):
    assert i18n.install_translator(qapp, "es") == "es"
    yield
    i18n.install_translator(qapp, "en")


def test_registration_checks_are_codes_said_in_spanish(spanish, qtbot) -> None:
    view = RegisterView()
    qtbot.addWidget(view)
    view.show()
    qtbot.keyClicks(view.username, "Bad Name")
    qtbot.keyClicks(view.password, "short")
    qtbot.keyClicks(view.confirm, "shorter")
    problems = view.problems()
    assert problems["username"] == failure(Code.USERNAME_INVALID)
    assert problems["confirm"] == failure(Code.PASSWORDS_DIFFER)
    assert problems["password"] == failure(
        Code.PASSWORD_NEEDS,
        rules=(
            failure(Code.RULE_LENGTH, count=12),
            failure(Code.RULE_UPPER),
            failure(Code.RULE_DIGIT),
            failure(Code.RULE_SYMBOL),
        ),
    )
    assert view.hints["username"].text() == "De 3 a 32 caracteres: minúsculas, cifras, '-' o '_'."
    assert view.hints["confirm"].text() == "Las contraseñas no coinciden."
    lines = [label.text() for label in view.checklist.lines]
    assert lines[0] == "• Al menos 12 caracteres"
    assert lines[2] == "✓ Una letra minúscula"


def test_a_schedule_window_without_days_is_refused_in_spanish(spanish, qtbot) -> None:
    """Checked before anything is sent; this wording stayed English before it had a code."""
    window = QWidget()
    qtbot.addWidget(window)
    device = Device(key="esp-a1b2c3", device_id="ESP-A1B2C3", name="Pool")
    schedule = ScheduleController(device, commands=lambda: None, read_only_tip=None, window=window)
    view = schedule.view
    row = view.add_row({"start": "22:00", "end": "02:00", "days": ["fri"]})
    for box in row.days.values():
        box.setChecked(False)
    view.save_button.click()
    assert view.status.text() == "Cada tramo necesita al menos un día."
    row.days["fri"].setChecked(True)
    view.add_row({"start": "08:00", "end": "08:00", "days": ["mon"]})
    view.save_button.click()
    assert view.status.text() == "El inicio y el fin de un tramo deben ser distintos."
    schedule.close()
