"""Account page controller."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog

from pooldesk.core import validation
from pooldesk.core.backend_client import ApiError
from pooldesk.core.failures import Code, failure
from pooldesk.core.paths import documents_dir, write_private
from pooldesk.core.session import Session
from pooldesk.ui import format as fmt
from pooldesk.ui import i18n
from pooldesk.ui.countdown import show_refusal
from pooldesk.ui.tasks import TaskGroup
from pooldesk.ui.views.account_view import AccountView
from pooldesk.ui.views.common import ConfirmDialog


class AccountController(QObject):
    back_requested = Signal()
    notifications_changed = Signal(bool)

    def __init__(self, view: AccountView, session: Session | None = None) -> None:
        super().__init__(view)
        self.view = view
        self.session = session
        self.tasks = TaskGroup()
        self.dialog: QObject | None = None
        view.back_requested.connect(self.back_requested)
        view.change_password_requested.connect(self.change_password)
        view.refresh_sessions_requested.connect(lambda: self.tasks.spawn(self.load_sessions()))
        view.end_session_requested.connect(self.ask_end_session)
        view.export_requested.connect(self.ask_export)
        view.delete_requested.connect(self.ask_delete)
        view.notifications_changed.connect(self.notifications_changed)
        view.language_chosen.connect(self.choose_language)

    @property
    def signed_in(self) -> Session:
        """The session: the AppController sets it before it shows this page."""
        if self.session is None:
            raise RuntimeError("the account page used before sign-in")
        return self.session

    def show(self, notifications: bool) -> None:
        user = self.signed_in.user
        self.view.who.setText(
            self.tr("Signed in as {user} ({email}) on {server}").format(
                user=user.username if user else "",
                email=user.email if user else "",
                server=self.signed_in.client.base_url,
            )
        )
        self.view.notifications.setChecked(notifications)
        self.view.show_language(i18n.saved_choice())
        problem = self.signed_in.store.problem
        self.view.keyring_note.setText(
            fmt.core_message(problem)
            if problem
            else self.tr("Your session is kept in the system keyring.")
        )
        self.view.notice.clear_message()
        self.tasks.spawn(self.load_sessions())

    def choose_language(self, choice: str) -> None:
        """Remember the language. The screens were built in the one in use, and Qt cannot
        re-word them in place, so a different language applies from the next start."""
        i18n.save_choice(choice)
        if i18n.chosen_language() == i18n.language_in_use():
            self.view.language_note.clear_message()
        else:
            self.view.language_note.show_info(
                self.tr("Saved. PoolDesk speaks the new language from its next start.")
            )

    async def _call(self, coro):
        self.view.set_busy(True)
        try:
            return await coro
        finally:
            self.view.set_busy(False)

    async def load_sessions(self) -> None:
        try:
            sessions = await self._call(self.signed_in.client.sessions())
        except ApiError as exc:
            show_refusal(self.view.notice, exc)
            return
        self.view.show_sessions(
            [
                (
                    s.id,
                    s.user_agent or self.tr("unknown app"),
                    fmt.when(s.created_at),
                    fmt.ago(s.last_used_at),
                    s.current,
                )
                for s in sessions
            ]
        )

    def ask_end_session(self, session_id: str) -> None:
        dialog = ConfirmDialog(
            self.tr("End session"),
            self.tr(
                "End the selected session? That app or computer is signed out at once and has "
                "to sign in again."
            ),
            self.tr("End session"),
            self.view,
        )
        dialog.accepted.connect(lambda: self.tasks.spawn(self.end_session(session_id)))
        self.dialog = dialog
        dialog.open()

    async def end_session(self, session_id: str) -> None:
        try:
            await self._call(self.signed_in.client.end_session(session_id))
        except ApiError as exc:
            show_refusal(self.view.notice, exc)
            return
        self.view.notice.show_info(self.tr("That session has ended."))
        await self.load_sessions()

    def change_password(self, current: str, new: str) -> None:
        view = self.view
        problem = validation.password_error(new)
        if not current:
            problem = failure(Code.CURRENT_PASSWORD_EMPTY)
        elif problem is None and new != view.repeat_password.text():
            problem = failure(Code.NEW_PASSWORDS_DIFFER)
        if problem:
            view.password_message.show_error(fmt.core_message(problem))
            return
        view.password_message.clear_message()
        view.set_busy(True)
        self.tasks.spawn(self._change_password(current, new))

    async def _change_password(self, current: str, new: str) -> None:
        try:
            await self._call(self.signed_in.client.change_password(current, new))
        except ApiError as exc:
            show_refusal(self.view.password_message, exc)
            return
        for field in (
            self.view.current_password,
            self.view.new_password,
            self.view.repeat_password,
        ):
            field.clear()
        self.view.password_message.show_info(fmt.core_message(failure(Code.PASSWORD_CHANGED)))
        await self.load_sessions()

    def ask_export(self) -> None:
        dialog = QFileDialog(
            self.view,
            self.tr("Save my data"),
            str(documents_dir() / "pooldesk-export.json"),
            self.tr("JSON files (*.json)"),
        )
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("json")
        dialog.fileSelected.connect(lambda path: self.tasks.spawn(self.export_to(Path(path))))
        self.dialog = dialog
        dialog.open()

    async def export_to(self, path: Path) -> None:
        try:
            data = await self._call(self.signed_in.client.export_account())
        except ApiError as exc:
            show_refusal(self.view.notice, exc)
            return
        try:
            write_private(path, json.dumps(data, indent=2, ensure_ascii=False))
        except OSError as exc:
            self.view.notice.show_error(
                self.tr("Could not save {path}: {error}").format(path=path, error=exc.strerror)
            )
            return
        self.view.notice.show_info(self.tr("Your data was saved to {path}.").format(path=path))

    def ask_delete(self, password: str) -> None:
        user = self.signed_in.user
        dialog = ConfirmDialog(
            self.tr("Delete account"),
            self.tr(
                'Delete the account "{user}" for good? Your devices are unbound and their '
                "history is erased."
            ).format(user=user.username if user else ""),
            self.tr("Delete for good"),
            self.view,
        )
        dialog.accepted.connect(lambda: self.tasks.spawn(self.delete(password)))
        self.dialog = dialog
        dialog.open()

    async def delete(self, password: str) -> None:
        try:
            await self._call(self.signed_in.delete_account(password))
        except ApiError as exc:
            show_refusal(self.view.notice, exc)
            return
        self.view.delete_password.clear()
        self.view.delete_understood.setChecked(False)
