"""Sharing on the real window (docs/sharing.md): the invitation inbox and its badge, a viewer's
card, the owner's People window, registration without a controller, the set-up code screen.
The real backend over HTTP; a plain Mosquitto plays the broker (the backend's own broker
rights have their tests in tests/broker)."""

from __future__ import annotations

import re
import subprocess

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication

from pooldesk.core.backend_client import BackendClient
from pooldesk.ui.controllers import people as people_controller
from tests.app.helpers import FakeController, unique_user
from tests.support.waiting import wait_until


async def account(backend, *, with_device: bool = True) -> tuple[dict[str, str], BackendClient]:
    """A fresh account and a signed-in client for it (the other person, outside the app)."""
    user = unique_user()
    client = BackendClient(backend.url)
    device = user["device_id"] if with_device else None
    await client.register(user["username"], user["email"], user["password"], device)
    await client.login(user["username"], user["password"])
    return user, client


async def signed_in_app(make_app, backend, broker, user):
    app = make_app(backend.url, broker_port=broker.port)
    await app.start()
    await app.session.sign_in(user["username"], user["password"])
    await wait_until(lambda: app.dashboard.link and app.dashboard.link.connected, what="live")
    return app


async def test_an_invited_viewer_accepts_and_sees_the_pool_but_cannot_switch_it(
    make_app, backend, broker, qtbot
) -> None:
    owner, owner_client = await account(backend)
    member, member_client = await account(backend, with_device=False)
    key = owner["device_id"].lower()
    pool = FakeController(broker.port, f"users/{owner['username']}/devices/{key}")
    pool.start()
    try:
        await owner_client.invite(member["username"], "viewer", owner["device_id"])
        app = await signed_in_app(make_app, backend, broker, member)
        view = app.window.dashboard_view
        await wait_until(lambda: view.inbox_button.text() == "Inbox (1)", what="the badge")
        assert view.inbox_button.property("waiting") is True
        assert not view.cards  # nothing shared before accepting
        assert view.title.text() == "My pools"
        qtbot.mouseClick(view.inbox_button, Qt.MouseButton.LeftButton)
        inbox = app.dashboard.people.inbox
        await wait_until(lambda: inbox.buttons, what="the invitation listed")
        (accept, _decline), = inbox.buttons.values()  # fmt: skip
        text = inbox.texts[0].text()
        assert text.startswith(f"{owner['username']} invites you to the pool {owner['device_id']}")
        qtbot.mouseClick(accept, Qt.MouseButton.LeftButton)
        await wait_until(lambda: key in view.cards, what="the shared pool on the dashboard")
        card = view.cards[key]
        await wait_until(lambda: "Online" in card.status.text(), what="live under the owner")
        assert card.shared.text() == f"Shared by {owner['username']} · viewer"
        assert card.shared.isVisible()
        assert view.title.text() == "Pools"  # not this user's
        pool.telemetry(25.5)
        await wait_until(lambda: "25.5" in card.temperature.text(), what="its temperature")
        assert not card.toggle.isEnabled()
        assert not card.run_for.isEnabled()
        assert card.toggle.toolTip().startswith(f"{owner['username']} shared this pool with you")
        assert not card.rename_action.isVisible()
        assert not card.remove_action.isVisible()
        assert card.leave_action.isVisible()
        await wait_until(lambda: view.inbox_button.text() == "Inbox", what="badge gone")
        # Leaving: the card goes, the owner's list of people is empty again.
        card.leave_action.trigger()
        await wait_until(lambda: app.dashboard.people.dialog is not None, what="the question")
        qtbot.mouseClick(app.dashboard.people.dialog.confirm_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: key not in view.cards, what="the card gone")
        assert view.title.text() == "My pools"
        given, _ = await owner_client.shares()
        assert given == []
    finally:
        pool.stop()
        await owner_client.aclose()
        await member_client.aclose()


async def test_an_invitation_shows_as_soon_as_the_invitee_comes_back_to_the_app(
    make_app, backend, broker, monkeypatch
) -> None:
    """ "I have invited you": the invitee switches to the app and the badge is there, without
    waiting for the 30 s poll."""
    owner, owner_client = await account(backend)
    member, member_client = await account(backend, with_device=False)
    try:
        app = await signed_in_app(make_app, backend, broker, member)
        people = app.dashboard.people
        # the first look is over once the next poll (30 s away) is scheduled
        await wait_until(lambda: people.state is not None and people._timer.isActive())
        view = app.window.dashboard_view
        assert view.inbox_button.text() == "Inbox"
        await owner_client.invite(member["username"], "viewer", owner["device_id"])
        monkeypatch.setattr(people_controller, "COMING_BACK_GAP_S", 0.0)
        QGuiApplication.instance().applicationStateChanged.emit(  # the user clicks the window
            Qt.ApplicationState.ApplicationActive
        )
        await wait_until(lambda: view.inbox_button.text() == "Inbox (1)", 10, "the badge")
    finally:
        await owner_client.aclose()
        await member_client.aclose()


async def test_an_operator_switches_the_owners_pump_on_the_owners_prefix(
    make_app, backend, broker, qtbot
) -> None:
    owner, owner_client = await account(backend)
    member, member_client = await account(backend, with_device=False)
    key = owner["device_id"].lower()
    pool = FakeController(broker.port, f"users/{owner['username']}/devices/{key}")
    pool.start()
    try:
        share = await owner_client.invite(member["username"], "operator", None)
        await member_client.accept_share(share.id)
        app = await signed_in_app(make_app, backend, broker, member)
        view = app.window.dashboard_view
        await wait_until(lambda: key in view.cards, what="the shared pool")
        card = view.cards[key]
        await wait_until(lambda: card.toggle.isEnabled(), what="controls on for an operator")
        assert card.shared.text() == f"Shared by {owner['username']} · operator"
        card.run_actions[3600].trigger()
        await wait_until(lambda: "timer" in card.pump.text(), what="the timer confirmed")
        assert pool.commands[-1]["duration_s"] == 3600
    finally:
        pool.stop()
        await owner_client.aclose()
        await member_client.aclose()


async def test_a_dashboard_of_own_and_shared_pools_is_titled_pools_too(
    make_app, backend, broker
) -> None:
    owner, owner_client = await account(backend)
    member, member_client = await account(backend)  # with a pool of their own
    try:
        share = await owner_client.invite(member["username"], "viewer", owner["device_id"])
        await member_client.accept_share(share.id)
        app = await signed_in_app(make_app, backend, broker, member)
        view = app.window.dashboard_view
        keys = {owner["device_id"].lower(), member["device_id"].lower()}
        await wait_until(lambda: set(view.cards) == keys, what="both pools")
        assert view.title.text() == "Pools"
    finally:
        await owner_client.aclose()
        await member_client.aclose()


async def test_the_owner_invites_from_people_and_ends_the_access(
    make_app, backend, broker, qtbot
) -> None:
    owner, owner_client = await account(backend)
    member, member_client = await account(backend, with_device=False)
    key = owner["device_id"].lower()
    try:
        app = await signed_in_app(make_app, backend, broker, owner)
        view = app.window.dashboard_view
        await wait_until(lambda: key in view.cards, what="own card")
        card = view.cards[key]
        assert not card.shared.isVisible()
        assert not card.leave_action.isVisible()
        assert view.title.text() == "My pools"
        card.people_action.trigger()
        people = app.dashboard.people.people_views[key]
        assert people.empty.isVisible()
        qtbot.keyClicks(people.username, "nobody-" + member["username"])
        people.role.setCurrentIndex(people.role.findData("viewer"))
        qtbot.mouseClick(people.invite_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: people.message.isVisible(), what="the refusal")
        assert people.message.text() == f"There is no account named nobody-{member['username']}."
        people.username.setText(member["username"])
        qtbot.mouseClick(people.invite_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: "Invitation sent" in people.message.text(), what="sent")
        (share,) = (await member_client.shares())[1]
        assert share.role == "viewer"
        assert share.device_id == owner["device_id"]
        await wait_until(lambda: share.id in people.row_details, what="the invited person listed")
        assert people.row_details[share.id].text().startswith("viewer · invited")
        assert people.row_details[share.id].text().endswith("not accepted yet")
        await member_client.accept_share(share.id)
        app.dashboard.people.refresh()
        await wait_until(
            lambda: "since" in people.row_details[share.id].text(), what="accepted: since when"
        )
        role, _end = people.row_widgets[share.id]
        role.setCurrentIndex(role.findData("operator"))  # the owner widens the role
        await wait_until(lambda: "is now operator" in people.message.text(), what="role changed")
        await wait_until(
            lambda: people.row_details[share.id].text().startswith("operator"), what="relisted"
        )
        assert (await member_client.shares())[1][0].role == "operator"
        qtbot.mouseClick(people.row_widgets[share.id][1], Qt.MouseButton.LeftButton)
        await wait_until(lambda: app.dashboard.people.dialog is not None, what="the question")
        qtbot.mouseClick(app.dashboard.people.dialog.confirm_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: not people.row_widgets, what="the row gone")
        assert people.empty.isVisible()
        assert (await member_client.shares())[1] == []
        assert all(d.device_id != owner["device_id"] for d in await member_client.devices())
    finally:
        await owner_client.aclose()
        await member_client.aclose()


async def test_register_without_a_controller(make_app, backend, qtbot) -> None:
    user = unique_user()
    app = make_app(backend.url)
    await app.start()
    window = app.window
    window.sign_in_view.register_requested.emit()
    view = window.register_view
    await wait_until(lambda: window.page is view, what="the register screen")
    view.username.setText(user["username"])
    view.email.setText(user["email"])
    view.password.setText(user["password"])
    view.confirm.setText(user["password"])
    assert not view.create_button.isEnabled()  # a controller is the default: its id is missing
    qtbot.mouseClick(view.no_controller, Qt.MouseButton.LeftButton)
    assert not view.device_box.isVisible()
    assert view.create_button.isEnabled()
    qtbot.mouseClick(view.create_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: window.page is window.dashboard_view, what="the dashboard")
    assert window.dashboard_view.empty.isVisible()
    assert await app.session.client.devices() == []


def scanned(widget, folder) -> str:
    """The text a QR reader finds in the widget as drawn on screen (zbar, from the Makefile's
    system packages)."""
    image = folder / "qr.png"
    assert widget.grab().save(str(image))
    found = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(image)], capture_output=True, text=True, check=True
    )
    return found.stdout.strip()


async def test_the_owner_creates_a_set_up_code_shown_as_text_and_qr(
    make_app, backend, broker, qtbot, tmp_path
) -> None:
    owner, owner_client = await account(backend)
    try:
        app = await signed_in_app(make_app, backend, broker, owner)
        view = app.window.dashboard_view
        view.setup_code_action.trigger()  # "Add device" ▾ → "Installer code…"
        setup = app.dashboard.people.setup_view
        assert not setup.code_box.isVisible()
        qtbot.mouseClick(setup.create_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: setup.code_box.isVisible(), what="the code")
        code = setup.code.text()
        assert re.fullmatch(
            r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code
        )
        assert setup.qr.isVisible()
        assert scanned(setup.qr, tmp_path) == f"POOLDESK-SETUP:{code}"  # what a phone reads
        assert re.match(r"Valid for 1[45]:\d\d more", setup.expiry.text()), setup.expiry.text()
        await wait_until(lambda: len(setup.withdraw_buttons) == 1, what="listed as unused")
        (live,) = await owner_client.setup_codes()
        assert live.id == app.dashboard.people.setup_code.id
        qtbot.mouseClick(setup.withdraw_buttons[live.id], Qt.MouseButton.LeftButton)
        await wait_until(lambda: not setup.withdraw_buttons, what="withdrawn")
        assert "no longer works" in setup.expiry.text()
        assert not setup.qr.isVisible()
        assert await owner_client.setup_codes() == []
    finally:
        await owner_client.aclose()


def test_the_spanish_header_with_a_waiting_inbox_fits_600_px(qapp) -> None:
    from PySide6.QtCore import QCoreApplication

    from pooldesk.ui import i18n
    from pooldesk.ui.main_window import MainWindow

    i18n.install_translator(qapp, "es")
    try:
        window = MainWindow()
        view = window.dashboard_view
        waiting = QCoreApplication.translate("PeopleController", "Inbox ({n})").format(n=2)
        assert waiting == "Bandeja (2)"
        view.show_inbox(waiting, True, "")
        # the longer of the two titles ("Mis piscinas"; "Piscinas" once a pool is shared)
        assert QCoreApplication.translate("DashboardController", "Pools") == "Piscinas"
        view.title.setText(QCoreApplication.translate("DashboardController", "My pools"))
        window.show_page(view)
        assert window.minimumSizeHint().width() <= 600
        window.deleteLater()
    finally:
        i18n.install_translator(qapp, "en")


async def test_a_hand_over_shows_each_step_on_both_sides(make_app, backend, broker, qtbot) -> None:
    owner, owner_client = await account(backend)
    buyer, buyer_client = await account(backend)
    key = owner["device_id"].lower()
    try:
        app = await signed_in_app(make_app, backend, broker, owner)
        view = app.window.dashboard_view
        await wait_until(lambda: key in view.cards, what="own card")
        card = view.cards[key]
        card.people_action.trigger()
        people = app.dashboard.people.people_views[key]
        qtbot.keyClicks(people.new_owner, buyer["username"])
        radio = people.clear_history  # clicked on its circle (a wide row is not all button)
        qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=QPoint(6, radio.height() // 2))
        assert radio.isChecked()
        qtbot.mouseClick(people.offer_button, Qt.MouseButton.LeftButton)
        dialog = app.dashboard.people.dialog
        assert "Its history is deleted." in dialog.findChildren(type(people.heading))[0].text()
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
        offered = f"Offered to {buyer['username']}: waiting for {buyer['username']} to accept."
        await wait_until(lambda: card.transfer.text() == offered, what="offered, on the card")
        assert card.transfer.isVisible()
        assert people.transfer_state.text() == offered
        assert people.cancel_transfer_button.isVisible()
        assert not people.transfer_form.isVisible()
        _, incoming = await buyer_client.transfers()
        (transfer,) = incoming
        assert transfer.history == "clear"
        # The buyer accepts; the controller is not connected: the hand-over waits for it.
        await buyer_client.accept_transfer(transfer.id)
        waiting = f"Moving to {buyer['username']}: waiting for the controller to come online."
        await wait_until(lambda: card.transfer.text() == waiting, within=15, what="moving")
        qtbot.mouseClick(people.cancel_transfer_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: not card.transfer.isVisible(), what="cancelled")
        assert "stays yours" in people.message.text()
        assert people.transfer_form.isVisible()
        _, incoming = await buyer_client.transfers()
        assert [t.status for t in incoming] == ["cancelled"]
    finally:
        await owner_client.aclose()
        await buyer_client.aclose()


async def test_an_offered_device_waits_in_the_inbox_of_the_new_owner(
    make_app, backend, broker, qtbot
) -> None:
    owner, owner_client = await account(backend)
    buyer, buyer_client = await account(backend)
    try:
        await owner_client.offer_transfer(owner["device_id"], buyer["username"], "keep")
        app = await signed_in_app(make_app, backend, broker, buyer)
        view = app.window.dashboard_view
        await wait_until(lambda: view.inbox_button.text() == "Inbox (1)", what="the badge")
        qtbot.mouseClick(view.inbox_button, Qt.MouseButton.LeftButton)
        inbox = app.dashboard.people.inbox
        await wait_until(lambda: inbox.texts, what="the offer listed")
        assert (
            inbox.texts[0]
            .text()
            .startswith(f"{owner['username']} offers you the device {owner['device_id']}")
        )
        assert "its history comes with it" in inbox.texts[0].text()
        ((accept, _decline),) = inbox.buttons.values()
        assert accept.text() == "Accept the device"
        qtbot.mouseClick(accept, Qt.MouseButton.LeftButton)
        await wait_until(lambda: "is moving to your account" in inbox.message.text(), what="ok")
        await wait_until(
            lambda: "waiting for the controller to come online" in inbox.under_way.text(),
            what="the device on its way",
        )
        assert view.inbox_button.text() == "Inbox"
        outgoing, _ = await owner_client.transfers()
        assert [t.status for t in outgoing] == ["moving"]
    finally:
        await owner_client.aclose()
        await buyer_client.aclose()
