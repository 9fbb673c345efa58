"""The server's refusals reach the screen by their reason, never by their English: the real
backend over HTTP gives each refusal a `reason` (beside its unchanged code, message and status,
so older apps keep working), the app's client turns it into its own failure code with the
values it knows, and the real widgets show that code's text in Spanish. An answer without a
reason keeps the server's words, as the server wrote them."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Iterator

import httpx
import pytest
from PySide6.QtCore import Qt

from pooldesk.core.backend_client import ApiError, BackendClient
from pooldesk.core.failures import Code, failure
from pooldesk.core.server_refusals import BY_REASON, NOT_MET
from pooldesk.core.updates import Updates
from pooldesk.ui import format as fmt
from pooldesk.ui import i18n
from pooldesk_contract.refusals import Reason
from tests.app.helpers import register_user, unique_user
from tests.support.backend import BackendProcess
from tests.support.waiting import wait_until

NOBODY_DEVICE = "ESP-0FFFF1"  # registered to nobody: "not found" whether it exists or not


@pytest.fixture(scope="module")
def strict_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackendProcess]:
    """A backend of this module's own: its sign-in locks and device-add allowance are spent by
    these tests and must not lock out the rest of the suite (they all sign in from 127.0.0.1)."""
    server = BackendProcess(
        tmp_path_factory.mktemp("strict-backend"), {"POOLDESK_DEVICE_ADDS_PER_USER": "1"}
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def _signed_in(url: str) -> tuple[BackendClient, dict[str, str]]:
    user = await register_user(url)
    client = BackendClient(url)
    await client.login(user["username"], user["password"])
    return client, user


async def _refused(call) -> ApiError:
    with pytest.raises(ApiError) as refused:
        await call
    return refused.value


def test_every_reason_the_app_meets_has_a_code_of_its_own() -> None:
    assert set(BY_REASON) | NOT_MET == set(Reason)
    assert not set(BY_REASON) & NOT_MET
    assert len({code for code, _ in BY_REASON.values()}) == len(BY_REASON)


async def test_each_404_has_its_reason_and_the_apps_words(backend) -> None:
    client, user = await _signed_in(backend.url)
    other = await register_user(backend.url)
    try:
        # a device: its own is found, another's (or nobody's) is not, named by the id asked for
        assert (await client.device(user["device_id"])).device_id == user["device_id"]
        missing = await _refused(client.device(NOBODY_DEVICE))
        assert (missing.status, missing.code, missing.reason) == (
            404,
            "not_found",
            "device_not_found",
        )
        assert missing.failure == failure(Code.DEVICE_NOT_FOUND, device=NOBODY_DEVICE)
        removed = await _refused(client.remove_device(other["device_id"]))
        assert removed.failure == failure(Code.DEVICE_NOT_FOUND, device=other["device_id"])

        # an account: an existing name is invited, a missing one is named as typed
        await client.invite(other["username"], "viewer", user["device_id"])
        nobody = await _refused(client.invite("nobody-at-all", "viewer", user["device_id"]))
        assert nobody.reason == Reason.NO_SUCH_ACCOUNT
        assert nobody.failure == failure(Code.NO_SUCH_ACCOUNT, username="nobody-at-all")
        twice = await _refused(client.invite(other["username"], "viewer", user["device_id"]))
        assert twice.failure == failure(Code.ALREADY_SHARED, username=other["username"])
        hand_over = await _refused(
            client.offer_transfer(user["device_id"], "nobody-at-all", "keep")
        )
        assert hand_over.failure == failure(Code.NO_SUCH_ACCOUNT, username="nobody-at-all")

        # things that ended or were never yours
        for call, code in (
            (client.end_session("0" * 32), Code.SESSION_NOT_FOUND),
            (client.end_share("no-such-share"), Code.SHARE_NOT_FOUND),
            (client.accept_share("no-such-share"), Code.SHARE_NOT_FOUND),
            (client.delete_setup_code("no-such-code"), Code.SETUP_CODE_NOT_FOUND),
            (client.accept_transfer("no-such-transfer"), Code.TRANSFER_NOT_FOUND),
            (client.cancel_transfer("no-such-transfer"), Code.TRANSFER_NOT_FOUND),
        ):
            refused = await _refused(call)
            assert (refused.status, refused.failure) == (404, failure(code)), code
    finally:
        await client.aclose()


async def test_the_server_keeps_its_code_and_message_beside_the_reason(backend) -> None:
    """Older apps read `code` and `message`: both are as they were; the reason is added."""
    async with httpx.AsyncClient(base_url=backend.url) as http:
        route = await http.get("/api/no-such-thing")
        assert route.status_code == 404
        assert route.json()["error"] == {
            "code": "not_found",
            "message": "No such endpoint: GET /api/no-such-thing",
            "reason": "no_such_route",
        }
        user = await register_user(backend.url)
        signed = await http.post(
            "/api/auth/login", json={"username": user["username"], "password": user["password"]}
        )
        token = signed.json()["token"]
        device = await http.get(
            f"/api/devices/{NOBODY_DEVICE}", headers={"Authorization": f"Bearer {token}"}
        )
        assert device.status_code == 404
        assert device.json()["error"] == {
            "code": "not_found",
            "message": f"Device {NOBODY_DEVICE} not found",
            "reason": "device_not_found",
        }
        malformed = await http.get(
            "/api/devices/not-a-device", headers={"Authorization": f"Bearer {token}"}
        )
        assert malformed.status_code == 404
        assert malformed.json()["error"] == {
            "code": "not_found",
            "message": "No such device: device ids look like ESP-XXXXXX",
            "reason": "device_not_found",
        }


async def test_password_refusals_have_reasons(backend) -> None:
    client, user = await _signed_in(backend.url)
    try:
        same = await _refused(client.change_password(user["password"], user["password"]))
        assert (same.status, same.reason) == (400, "same_password")
        assert same.failure == failure(Code.SAME_PASSWORD)
    finally:
        await client.aclose()
    fresh = unique_user()
    newcomer = BackendClient(backend.url)
    try:
        weak = await _refused(
            newcomer.register(fresh["username"], fresh["email"], "Password123!", None)
        )
        assert (weak.status, weak.reason) == (400, "weak_password")
        assert weak.failure == failure(Code.WEAK_PASSWORD)
        await newcomer.register(fresh["username"], fresh["email"], fresh["password"], None)
        # a refusal with no reason (a field the server names itself): its words, as written
        bad_email = await _refused(
            newcomer.register("someone-new", "not-an-email", fresh["password"], None)
        )
        assert bad_email.reason is None
        assert bad_email.failure.code is Code.SERVER_SAID
    finally:
        await newcomer.aclose()


async def test_429_tells_failed_attempts_from_too_many_requests(strict_backend) -> None:
    url = strict_backend.url
    client, user = await _signed_in(url)
    try:
        # this server allows one add, then the next one sets a lock: the third is refused
        await client.add_device("ESP-0AAA01")
        await client.add_device("ESP-0AAA02")
        busy = await _refused(client.add_device("ESP-0AAA03"))
        assert (busy.status, busy.code, busy.reason) == (429, "rate_limited", "too_many_requests")
        assert busy.failure == failure(Code.TOO_MANY_REQUESTS)
        assert (busy.retry_after or 0) >= 1
    finally:
        await client.aclose()
    locked = await _locked_out(url, user["username"])
    assert (locked.status, locked.reason) == (429, "too_many_attempts")
    assert locked.failure == failure(Code.TOO_MANY_ATTEMPTS)
    assert (locked.retry_after or 0) >= 1


async def _locked_out(url: str, username: str) -> ApiError:
    """Wrong passwords until the server locks the name (each one is a plain 401 before)."""
    client = BackendClient(url)
    try:
        for _ in range(40):
            refused = await _refused(client.login(username, "Wrong-password-1!"))
            if refused.status == 429:
                return refused
            assert (refused.status, refused.failure) == (401, failure(Code.WRONG_CREDENTIALS))
    finally:
        await client.aclose()
    raise AssertionError("the sign-in was never locked")


async def test_a_sign_in_lock_out_counts_down_in_spanish(make_app, strict_backend, qapp, qtbot):
    user = await register_user(strict_backend.url)
    i18n.install_translator(qapp, "es")
    try:
        app = make_app(strict_backend.url)
        await app.start()
        view = app.window.sign_in_view
        await wait_until(lambda: app.window.page is view, what="the sign-in page")
        lock = re.compile(r"Demasiados intentos fallidos\. Vuelve a intentarlo en \d+ s\.")
        for _ in range(40):
            view.username.setText(user["username"])
            view.password.setText("Wrong-password-1!")
            view.error.clear_message()
            qtbot.keyClick(view.password, Qt.Key.Key_Return)
            await wait_until(lambda: view.error.text() != "", what="the refusal")
            seen = view.error.text()  # the countdown moves on: judge this moment's text
            if lock.fullmatch(seen):
                break
            assert seen == "Nombre de usuario o contraseña incorrectos"
        assert lock.fullmatch(seen), seen
    finally:
        i18n.install_translator(qapp, "en")


def test_refusals_are_said_in_spanish_from_the_apps_table(qapp) -> None:
    i18n.install_translator(qapp, "es")
    try:
        device = failure(Code.DEVICE_NOT_FOUND, device=NOBODY_DEVICE)
        assert (
            fmt.core_message(device)
            == f"{NOBODY_DEVICE} no está en tu cuenta ni compartido contigo."
        )
        account = failure(Code.NO_SUCH_ACCOUNT, username="nadie")
        assert fmt.core_message(account) == "No hay ninguna cuenta llamada nadie."
        # an older server's words are shown as they are, never matched against a template
        older = failure(Code.SERVER_SAID, message=f"Device {NOBODY_DEVICE} not found")
        assert fmt.core_message(older) == f"Device {NOBODY_DEVICE} not found"
    finally:
        i18n.install_translator(qapp, "en")


async def test_no_firmware_release_and_a_disabled_account_are_the_apps_words(strict_backend):
    """Two more refusals the app shows: an update with no release stored (`no_release`), and
    the operator's disabled account (the server's own code `account_disabled`)."""
    client, user = await _signed_in(strict_backend.url)
    try:
        updates = Updates(client)
        missing = await _refused(updates.start(user["device_id"], "9.9.9"))
        assert (missing.status, missing.reason) == (404, "no_release")
        assert missing.failure == failure(Code.NO_RELEASE)
    finally:
        await client.aclose()
    disable = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "pooldesk_server.cli", "users", "disable", user["username"]),
        *("--data-dir", str(strict_backend.data_dir)),
        env={**os.environ, "JWT_SECRET": "test-secret-" + "x" * 40},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    said, _ = await asyncio.wait_for(disable.communicate(), 60)
    assert disable.returncode == 0, said
    again = BackendClient(strict_backend.url)
    try:
        refused = await _refused(again.login(user["username"], user["password"]))
        assert (refused.status, refused.code) == (403, "account_disabled")
        assert refused.failure == failure(Code.ACCOUNT_DISABLED)
    finally:
        await again.aclose()


async def test_an_invitation_to_no_account_is_refused_in_spanish(signed_in, qapp, qtbot) -> None:
    """A 404 on the People page: named by the username typed, in Spanish, not the server's
    `No account named …`."""
    app, key, _controller, _user = signed_in
    i18n.install_translator(qapp, "es")
    try:
        card = app.window.dashboard_view.cards[key]
        card.people_action.trigger()
        people = app.dashboard.people.people_views[key]
        qtbot.keyClicks(people.username, "nadie-aqui")
        people.role.setCurrentIndex(people.role.findData("viewer"))
        qtbot.mouseClick(people.invite_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: people.message.isVisible(), what="the refusal")
        assert people.message.text() == "No hay ninguna cuenta llamada nadie-aqui."
    finally:
        i18n.install_translator(qapp, "en")


async def test_an_installer_is_not_told_about_the_owners_account_as_if_it_were_theirs(backend):
    """With an owner's set-up code the device goes to the owner's account: a refusal about that
    account ("it is on your account", "your account is full") is the server's neutral words for
    the installer, and the app's own "your account" words for the owner."""
    owner, owner_user = await _signed_in(backend.url)
    installer, _ = await _signed_in(backend.url)
    try:
        code = await owner.create_setup_code()
        theirs = owner_user["device_id"]
        refused = await _refused(installer.add_device(theirs, setup_code=code.code))
        assert (refused.status, refused.reason) == (409, "device_on_your_account")
        assert refused.failure.code is Code.SERVER_SAID
        assert theirs in str(refused.failure)
        # the twin: the owner adding it again is told in the app's words
        again = await _refused(owner.add_device(theirs))
        assert again.failure == failure(Code.DEVICE_ON_YOUR_ACCOUNT, device=theirs)
    finally:
        await owner.aclose()
        await installer.aclose()
