"""Looks that matter: a small window without sideways scrolling, the card menu whole, numbers
in the language on screen, and text fields that can be seen in the dark theme."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from pooldesk.ui import i18n
from pooldesk.ui.main_window import MainWindow
from pooldesk.ui.theme import _DARK, DARK_FIELD_BORDER, apply_theme, contrast
from tests.support.waiting import wait_until


async def test_600_by_400_has_no_sideways_scroll_and_the_card_menu_is_whole(signed_in) -> None:
    app, key, controller, _ = signed_in
    controller()
    window = app.window
    view = window.dashboard_view
    card = view.cards[key]
    await wait_until(lambda: card.toggle.isEnabled())
    window.resize(600, 400)
    await wait_until(lambda: window.width() == 600 and window.height() == 400, what="resized")
    await wait_until(lambda: view.columns == 1, what="one column")
    viewport = view.card_scroll.viewport()
    assert view.card_scroll.horizontalScrollBar().maximum() == 0
    visible = QRect(QPoint(0, 0), viewport.size())
    for widget in (card, card.menu_button, card.toggle, card.run_for):
        top_left = widget.mapTo(viewport, QPoint(0, 0))
        right = top_left.x() + widget.width()
        assert top_left.x() >= 0, widget
        assert right <= visible.width(), widget
    for button in (view.add_button, view.inbox_button, view.account_button, view.sign_out_button):
        assert button.mapTo(window, QPoint(button.width(), 0)).x() <= window.width()
    window.resize(1000, 640)
    await wait_until(lambda: view.columns >= 2, what="two columns when there is room")


async def test_spanish_writes_a_decimal_comma(signed_in, qapp) -> None:
    app, key, controller, _ = signed_in
    card = app.window.dashboard_view.cards[key]
    fake = controller()
    i18n.install_translator(qapp, "es")
    try:
        fake.telemetry(24.7)
        await wait_until(lambda: "24,7 °C" in card.temperature.text(), what="24,7")
    finally:
        i18n.install_translator(qapp, "en")


def test_dark_theme_text_fields_stand_out(qapp, monkeypatch) -> None:
    monkeypatch.setenv("POOLDESK_THEME", "dark")
    apply_theme(qapp)
    try:
        page = MainWindow()  # as the app builds it (the scheme was chosen before)
        page.show_page(page.sign_in_view)
        page.show()
        field = page.sign_in_view.username
        QApplication.processEvents()
        assert qapp.style().name().lower() == "fusion"  # the application keeps plain Fusion
        image = field.grab().toImage()
        window = QColor(_DARK["Window"]).name()
        middle = image.height() // 2
        edge = max(contrast(image.pixelColor(x, middle).name(), window) for x in range(0, 3))
        assert edge >= 3.0, edge  # the field's border is seen against the window
        assert contrast(DARK_FIELD_BORDER, window) >= 3.0
        page.close()
    finally:
        monkeypatch.setenv("POOLDESK_THEME", "light")
        apply_theme(qapp)


async def test_spanish_translates_the_controllers_words(signed_in, qapp) -> None:
    app, key, controller, _ = signed_in
    card = app.window.dashboard_view.cards[key]
    fake = controller()
    i18n.install_translator(qapp, "es")
    try:
        fake.alert("clock", "no network time yet: the schedule is waiting")
        await wait_until(lambda: "Todavía sin hora de la red" in card.alerts.text(), what="alert")
        from pooldesk.core.failures import Code, failure
        from pooldesk.ui import format as fmt

        frozen = failure(Code.FREEZE_KEEPS_PUMP_ON)
        refused = fmt.core_message(failure(Code.COMMAND_REFUSED, reason=frozen))
        assert "antiheladas" in refused
        assert "freeze" not in refused
        server = fmt.core_message(failure(Code.SESSION_ENDED))
        assert "Sign in" not in server
        assert "sesión" in server
    finally:
        i18n.install_translator(qapp, "en")


async def test_fahrenheit_chosen_on_the_account_page(signed_in, qtbot) -> None:
    app, key, controller, _ = signed_in
    card = app.window.dashboard_view.cards[key]
    fake = controller()
    fake.telemetry(25.0)
    await wait_until(lambda: card.temperature.text() == "25.0 °C", what="°C")
    qtbot.mouseClick(app.window.dashboard_view.account_button, Qt.MouseButton.LeftButton)
    units = app.window.account_view.temperature_unit
    units.setFocus()
    qtbot.keyClick(units, Qt.Key.Key_End)  # the last choice, °F, as a user picks it
    assert units.currentData() == "F"
    assert card.temperature.text() == "77.0 °F"
    assert app.settings_store.load().temperature_unit == "F"
    qtbot.keyClick(units, Qt.Key.Key_Home)  # back to the system's (°C here)
    assert card.temperature.text() == "25.0 °C"
