"""Server prompt, sign-in and registration screens -> Session."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from pooldesk.core.backend_client import ApiError
from pooldesk.core.failures import Message
from pooldesk.core.session import Session
from pooldesk.core.settings import UnsafeUrlError, check_server_url
from pooldesk.ui import format as fmt
from pooldesk.ui.countdown import show_refusal
from pooldesk.ui.tasks import TaskGroup
from pooldesk.ui.views.auth_views import RegisterView, ServerView, SignInView


class AuthController(QObject):
    server_chosen = Signal(str, bool)  # checked url, allow insecure
    show_requested = Signal(object)  # the view to show

    def __init__(
        self, server_view: ServerView, sign_in_view: SignInView, register_view: RegisterView
    ) -> None:
        super().__init__(sign_in_view)
        self.server_view = server_view
        self.sign_in_view = sign_in_view
        self.register_view = register_view
        self.session: Session | None = None
        self.tasks = TaskGroup()
        server_view.submitted.connect(self.choose_server)
        sign_in_view.submitted.connect(self._sign_in_submitted)
        sign_in_view.register_requested.connect(lambda: self.show_requested.emit(register_view))
        sign_in_view.change_server_requested.connect(lambda: self.show_requested.emit(server_view))
        register_view.submitted.connect(self._register_submitted)
        register_view.back_requested.connect(lambda: self.show_requested.emit(sign_in_view))

    def choose_server(self, url: str, allow_insecure: bool) -> None:
        try:
            checked = check_server_url(url, allow_insecure)
        except UnsafeUrlError as exc:
            self.server_view.error.show_error(fmt.core_message(exc.failure))
            return
        self.server_view.error.clear_message()
        self.server_chosen.emit(checked, allow_insecure)

    def show_sign_in(self, message: Message = "", *, is_error: bool = True) -> None:
        view = self.sign_in_view
        if self.session:
            view.server.setText(self.tr("Server: {url}").format(url=self.session.client.base_url))
        view.password.clear()
        view.set_busy(False)
        if message and is_error:
            view.notice.show_error(fmt.core_message(message))
        elif message:
            view.notice.show_info(fmt.core_message(message))
        else:
            view.notice.clear_message()
        self.show_requested.emit(view)
        view.username.setFocus()

    def _sign_in_submitted(self, username: str, password: str) -> None:
        self.sign_in_view.set_busy(True)  # progress shows at once, before the request leaves
        self.sign_in_view.notice.clear_message()
        self.tasks.spawn(self.sign_in(username, password))

    def _register_submitted(self, username: str, email: str, password: str, device: str) -> None:
        self.register_view.set_busy(True)
        self.tasks.spawn(self.register(username, email, password, device or None))

    async def sign_in(self, username: str, password: str) -> None:
        assert self.session is not None
        self.sign_in_view.set_busy(True)
        try:
            await self.session.sign_in(username, password)
        except ApiError as exc:
            show_refusal(self.sign_in_view.error, exc)
        finally:
            self.sign_in_view.set_busy(False)

    async def register(
        self, username: str, email: str, password: str, device_id: str | None
    ) -> None:
        assert self.session is not None
        self.register_view.set_busy(True)
        try:
            await self.session.register(username, email, password, device_id)
        except ApiError as exc:
            show_refusal(self.register_view.error, exc)
        finally:
            self.register_view.set_busy(False)
