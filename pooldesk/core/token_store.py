"""Where the refresh token lives: the OS keyring, or (when no keyring works) this run's memory.

The access token is never stored: the backend client keeps it in memory only.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import keyring
import keyring.errors

from pooldesk.core.failures import Code, Failure, failure

log = logging.getLogger(__name__)
SERVICE = "pooldesk"


@dataclass(frozen=True)
class StoredSession:
    username: str
    refresh_token: str


class TokenStore:
    """One keyring entry per server URL holding the signed-in username and refresh token."""

    def __init__(self, server_url: str) -> None:
        self._key = f"session:{server_url}"
        self._memory: StoredSession | None = None
        self.problem: Failure | None = None  # why the keyring is not used, for the UI to show

    @property
    def persistent(self) -> bool:
        return self.problem is None

    def load(self) -> StoredSession | None:
        if self._memory is not None:
            return self._memory
        try:
            raw = keyring.get_password(SERVICE, self._key)
        except keyring.errors.KeyringError as exc:
            self._fail(exc)
            return None
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return StoredSession(str(data["username"]), str(data["refreshToken"]))
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring an unreadable session entry in the keyring")
            return None

    def save(self, session: StoredSession) -> bool:
        """Keep the session; True when it will survive a restart."""
        payload = json.dumps({"username": session.username, "refreshToken": session.refresh_token})
        if self.persistent:
            try:
                keyring.set_password(SERVICE, self._key, payload)
                self._memory = None
                return True
            except keyring.errors.KeyringError as exc:
                self._fail(exc)
        self._memory = session
        return False

    def clear(self) -> None:
        self._memory = None
        if not self.persistent:
            return
        try:
            keyring.delete_password(SERVICE, self._key)
        except keyring.errors.PasswordDeleteError:
            pass  # nothing stored
        except keyring.errors.KeyringError as exc:
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        if self.problem is not None:
            return
        # The exception text never holds the secret; it names the backend problem.
        log.warning("no usable keyring, the session lasts for this run only: %s", exc)
        self.problem = failure(Code.NO_KEYRING)
