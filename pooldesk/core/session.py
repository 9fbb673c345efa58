"""The sign-in state machine.

    SIGNED_OUT --sign_in/register--> SIGNING_IN --ok--> SIGNED_IN
    (start) --stored refresh token--> RESTORING --ok--> SIGNED_IN, --refused--> SIGNED_OUT
    SIGNED_IN --sign_out / session revoked / account deleted--> SIGNED_OUT (with a message)

Listeners get (state, message) on every change; the UI switches screens on them.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable

from pooldesk.core.backend_client import ApiError, BackendClient, SessionEnded, Tokens
from pooldesk.core.failures import Code, Failure, Message, failure
from pooldesk.core.models import User
from pooldesk.core.token_store import StoredSession, TokenStore

log = logging.getLogger(__name__)


class SessionState(enum.Enum):
    SIGNED_OUT = "signed_out"
    RESTORING = "restoring"
    SIGNING_IN = "signing_in"
    SIGNED_IN = "signed_in"


Listener = Callable[[SessionState, Message], None]


class Session:
    def __init__(self, client: BackendClient, store: TokenStore) -> None:
        self.client = client
        self.store = store
        self.state = SessionState.SIGNED_OUT
        self.user: User | None = None
        self.message: Message = ""  # the latest notice for the sign-in screen
        self.message_is_error = True
        self.previous_state = SessionState.SIGNED_OUT
        self._username: str | None = None
        self._listeners: list[Listener] = []
        client.on_tokens = self._tokens_changed
        client.on_session_ended = self._ended_by_server

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _set(self, state: SessionState, message: Message = "", *, error: bool = True) -> None:
        self.previous_state = self.state
        self.state = state
        self.message = message
        self.message_is_error = error
        for listener in list(self._listeners):
            listener(state, message)

    def _tokens_changed(self, tokens: Tokens | None) -> None:
        if tokens is None:
            self.store.clear()
        elif self._username:
            self.store.save(StoredSession(self._username, tokens.refresh))

    def _ended_by_server(self, message: Failure) -> None:
        if self.state is SessionState.SIGNED_IN:
            log.info("the server ended the session")
            self.user = None
            self._set(SessionState.SIGNED_OUT, message)

    async def start(self) -> bool:
        """Sign in from the keyring when a session was kept; True when it worked."""
        stored = self.store.load()
        if stored is None:
            self._set(SessionState.SIGNED_OUT, self.store.problem or "")
            return False
        self._username = stored.username
        self._set(SessionState.RESTORING)
        try:
            self.user = await self.client.restore(stored.refresh_token)
        except SessionEnded as exc:
            self._set(SessionState.SIGNED_OUT, exc.failure)
            return False
        except ApiError as exc:
            # The server is unreachable: keep the stored token for the next try.
            self.client.on_tokens = None
            self.client.forget_tokens()
            self.client.on_tokens = self._tokens_changed
            self._set(SessionState.SIGNED_OUT, exc.failure)
            return False
        self._set(SessionState.SIGNED_IN, self.store.problem or "")
        return True

    async def sign_in(self, username: str, password: str) -> User:
        self._username = username
        if self.state is not SessionState.SIGNING_IN:  # register() already said so
            self._set(SessionState.SIGNING_IN)
        try:
            self.user = await self.client.login(username, password)
        except ApiError as exc:
            self._set(SessionState.SIGNED_OUT, exc.failure)
            raise
        self._username = self.user.username or username
        self._set(SessionState.SIGNED_IN, self.store.problem or "")
        return self.user

    async def register(
        self, username: str, email: str, password: str, device_id: str | None
    ) -> User:
        self._set(SessionState.SIGNING_IN)
        try:
            await self.client.register(username, email, password, device_id)
        except ApiError as exc:
            self._set(SessionState.SIGNED_OUT, exc.failure)
            raise
        return await self.sign_in(username, password)

    async def sign_out(self, message: Message = "") -> None:
        """End the session on the server (best effort) and forget it here."""
        try:
            await self.client.logout()
        except ApiError as exc:
            log.warning("the server did not confirm the sign-out: %s", exc.message)
        self.store.clear()
        self.user = None
        self._set(SessionState.SIGNED_OUT, message)

    async def delete_account(self, password: str) -> None:
        """Delete the account; the sign-in screen then says so in the app's words."""
        await self.client.delete_account(password)
        self.store.clear()
        self.user = None
        self._set(SessionState.SIGNED_OUT, failure(Code.ACCOUNT_DELETED), error=False)
