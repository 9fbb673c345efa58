"""The backend's HTTP API as typed async calls.

Access tokens live in memory only. The client refreshes the access token shortly before it
expires and once on a 401; when the refresh itself is refused the session is over and
`SessionEnded` carries the server's message. Refreshes are serialised, because the server
rotates refresh tokens and treats the reuse of a spent one as theft (it revokes the family).
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import platform
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import httpx
import msgspec

from pooldesk import __version__
from pooldesk.core import api_types as api
from pooldesk.core.failures import Code, Failure, failure
from pooldesk.core.models import (
    DeviceInfo,
    HistoryEvent,
    MqttCredentials,
    SessionInfo,
    SetupCode,
    Share,
    Transfer,
    User,
    format_time,
)
from pooldesk.core.server_refusals import DEVICE, FOR_OWNER, USERNAME, refusal_failure

log = logging.getLogger(__name__)
A = TypeVar("A", bound=msgspec.Struct)
REFRESH_MARGIN_S = 60.0


KEEPALIVE_S = 2.0  # below the server's idle keep-alive timeout


class ApiError(Exception):
    """The server refused, or could not be reached. `failure` says what happened (the UI words
    it): the app's own code for the server's `reason` (`server_refusals`), else the server's
    message as it is; `message` is its English text, for logs; `code` is the server's own error
    code and `reason` its finer one where a status has several meanings
    (`pooldesk_contract.refusals`)."""

    def __init__(
        self,
        failure: Failure,
        code: str = "error",
        status: int = 0,
        retry_after: int | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(str(failure))
        self.failure = failure
        self.code = code
        self.status = status
        self.retry_after = retry_after  # seconds, when the server said when to try again
        self.reason = reason

    @property
    def message(self) -> str:
        return str(self.failure)


class NetworkError(ApiError):
    """No answer from the server (down, wrong address, timeout)."""


class SessionEnded(ApiError):
    """The session can no longer be refreshed: the user must sign in again."""


@dataclass
class Tokens:
    access: str
    refresh: str
    expires_at: float  # time.monotonic() deadline of the access token


@dataclass(frozen=True)
class HistoryPage:
    events: list[HistoryEvent]
    next_cursor: str | None


TokensListener = Callable[[Tokens | None], None]
Known = Mapping[str, str] | None  # values the app knows about a request: server_refusals


class BackendClient:
    def __init__(
        self,
        base_url: str,
        *,
        on_tokens: TokensListener | None = None,
        on_session_ended: Callable[[Failure], None] | None = None,
        timeout: float = 15.0,
        refresh_margin: float = REFRESH_MARGIN_S,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=timeout,
            headers={"User-Agent": f"PoolDesk/{__version__} ({platform.system()})"},
            follow_redirects=False,
            # A connection idle for a while is not reused: the server (uvicorn) closes idle
            # keep-alive connections after 5 s, and a request sent just as it does so fails
            # with "Cannot reach the server" although the server is fine.
            limits=httpx.Limits(keepalive_expiry=KEEPALIVE_S),
        )
        self._tokens: Tokens | None = None
        self.on_tokens = on_tokens
        self.on_session_ended = on_session_ended
        self._refresh_margin = refresh_margin
        self._refresh_lock = asyncio.Lock()

    # -- token state ---------------------------------------------------------------------------
    @property
    def tokens(self) -> Tokens | None:
        return self._tokens

    @property
    def signed_in(self) -> bool:
        return self._tokens is not None

    def forget_tokens(self) -> None:
        self._set_tokens(None)

    def expire_access_token_now(self) -> None:
        """Treat the access token as expired (used after the app slept, and by tests)."""
        if self._tokens:
            self._tokens.expires_at = time.monotonic()

    def _set_tokens(self, tokens: Tokens | None) -> None:
        self._tokens = tokens
        if self.on_tokens:
            self.on_tokens(tokens)

    def _take_tokens(self, pair: api.TokenPair) -> None:
        self._set_tokens(
            Tokens(
                access=pair.token,
                refresh=pair.refresh_token,
                expires_at=time.monotonic() + float(pair.expires_in or 3600),
            )
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- transport -----------------------------------------------------------------------------
    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict | None = None,
        token: str | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        try:
            return await self._http.request(method, path, json=json, params=params, headers=headers)
        except httpx.TimeoutException:
            raise NetworkError(failure(Code.SERVER_TIMEOUT, url=self.base_url), "timeout") from None
        except httpx.HTTPError as exc:
            log.info("cannot reach %s: %s", self.base_url, type(exc).__name__)
            raise NetworkError(
                failure(Code.SERVER_UNREACHABLE, url=self.base_url), "network"
            ) from None

    @staticmethod
    def _typed(response: httpx.Response, answer_type: type[A], about: Known = None) -> A:
        """A success answer as its type (pooldesk.core.api_types), or ApiError."""
        BackendClient._result(response, about)
        try:
            return msgspec.json.decode(response.content, type=answer_type)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            log.warning("unexpected answer from %s: %s", response.request.url.path, exc)
            raise ApiError(
                failure(Code.SERVER_MISMATCH, detail=str(exc)),
                "bad_response",
                response.status_code,
            ) from None

    @staticmethod
    def _result(response: httpx.Response, about: Known = None) -> dict[str, Any]:
        """The answer's JSON, or ApiError. `about`: what the app asked about (the device id, the
        username typed), which the app's words for a refusal name (`server_refusals`)."""
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ApiError(
                failure(Code.SERVER_UNREADABLE, status=response.status_code),
                "bad_response",
                response.status_code,
            )
        if response.is_success and data.get("ok", True):
            return data
        error = data.get("error")
        if not isinstance(error, dict):
            error = {}
        code = str(error.get("code") or "error")
        said = str(error.get("message") or "")
        retry_after = _seconds(response.headers.get("Retry-After"))
        if response.status_code == 429 and retry_after is not None:
            # The wait is shown by the app as a countdown: drop the server's own fixed
            # "; try again in 16 seconds" so that it is not said twice, once stale.
            said = _TRY_AGAIN.sub("", said).rstrip(" ;,.") + "."
        status = response.status_code
        reason = error.get("reason")
        reason = reason if isinstance(reason, str) else None
        # A wait the app cannot read (a proxy dropped or rewrote Retry-After): the server's
        # sentence, which says it, rather than the app's words without it.
        worded = (
            None if status == 429 and retry_after is None else refusal_failure(reason, about or {})
        )
        raise ApiError(
            worded or _server_failure(code, said, status),
            code,
            status,
            retry_after,
            reason=reason,
        )

    async def _public(
        self, answer_type: type[A], method: str, path: str, about: Known = None, **kwargs: Any
    ) -> A:
        return self._typed(await self._send(method, path, **kwargs), answer_type, about)

    async def _authed(
        self, answer_type: type[A], method: str, path: str, about: Known = None, **kwargs: Any
    ) -> A:
        tokens = self._tokens
        if tokens is None:
            raise SessionEnded(failure(Code.SESSION_ENDED), "unauthorized", 401)
        if tokens.expires_at - time.monotonic() < self._refresh_margin:
            await self._refresh_from(tokens.access)
        response = await self._send(method, path, token=self._access(), **kwargs)
        if response.status_code == 401:
            await self._refresh_from(self._access())
            response = await self._send(method, path, token=self._access(), **kwargs)
            if response.status_code == 401:
                self._end_session(self._error_message(response))
        return self._typed(response, answer_type, about)

    def _access(self) -> str:
        if self._tokens is None:
            raise SessionEnded(failure(Code.SESSION_ENDED), "unauthorized", 401)
        return self._tokens.access

    @staticmethod
    def _error_message(response: httpx.Response) -> str | None:
        try:
            return str(response.json()["error"]["message"])
        except (ValueError, KeyError, TypeError):
            return None

    async def _refresh_from(self, stale_access: str) -> None:
        async with self._refresh_lock:
            if self._tokens is None:
                raise SessionEnded(failure(Code.SESSION_ENDED), "unauthorized", 401)
            if self._tokens.access != stale_access:
                return  # another call refreshed while this one waited
            await self._refresh_now()

    async def _refresh_now(self) -> None:
        assert self._tokens is not None
        response = await self._send(
            "POST", "/api/auth/refresh", json={"refreshToken": self._tokens.refresh}
        )
        if response.status_code in (400, 401, 403):
            self._end_session(self._error_message(response))
        self._take_tokens(self._typed(response, api.TokenPair))
        log.info("access token refreshed")

    def _end_session(self, server_message: str | None) -> NoReturn:
        """One wording whatever the server's reason (expired, signed out elsewhere, password
        changed): the user's next step is the same."""
        self.forget_tokens()
        log.info("the session ended: %s", server_message or "no reason given")
        ended = failure(Code.SESSION_ENDED)
        if self.on_session_ended:
            self.on_session_ended(ended)
        raise SessionEnded(ended, "unauthorized", 401)

    # -- auth ----------------------------------------------------------------------------------
    async def register(
        self, username: str, email: str, password: str, device_id: str | None
    ) -> str:
        """Create an account; `device_id` None: an account without a controller (yet)."""
        body = {"username": username, "email": email, "password": password}
        if device_id:
            body["deviceId"] = device_id
        about = {USERNAME: username, DEVICE: device_id or ""}
        data = await self._public(
            api.Registered, "POST", "/api/auth/register", about=about, json=body
        )
        return data.message or "Registration successful"

    async def login(self, username: str, password: str) -> User:
        try:
            data = await self._public(
                api.SignedIn,
                "POST",
                "/api/auth/login",
                json={"username": username, "password": password},
            )
        except ApiError as exc:
            if exc.status != 401:
                raise
            # 401 on sign-in means the name or the password is wrong, whatever the wording
            raise ApiError(
                failure(Code.WRONG_CREDENTIALS), exc.code, 401, exc.retry_after
            ) from None
        self._take_tokens(data)
        return User.from_api(data.user)

    async def restore(self, refresh_token: str) -> User:
        """Start from a stored refresh token: rotate it, then ask who we are."""
        self._tokens = Tokens(access="", refresh=refresh_token, expires_at=0.0)
        await self._refresh_from("")
        user, _session = await self.verify()
        return user

    async def verify(self) -> tuple[User, str]:
        data = await self._authed(api.Verified, "GET", "/api/auth/verify")
        return User.from_api(data.user), data.session_id

    async def logout(self) -> None:
        """End the session on the server; the local tokens are dropped whatever happens."""
        try:
            if self._tokens is not None:
                await self._authed(api.Message, "POST", "/api/auth/logout")
        finally:
            self.forget_tokens()

    async def sessions(self) -> list[SessionInfo]:
        data = await self._authed(api.Sessions, "GET", "/api/auth/sessions")
        return [SessionInfo.from_api(item) for item in data.sessions]

    async def end_session(self, session_id: str) -> None:
        await self._authed(api.Message, "DELETE", f"/api/auth/sessions/{session_id}")

    async def change_password(self, current: str, new: str) -> None:
        """Change the password; the server signs out this account's other sessions."""
        await self._authed(
            api.Message,
            "POST",
            "/api/auth/password",
            json={"currentPassword": current, "newPassword": new},
        )

    async def mqtt_credentials(self) -> MqttCredentials:
        answer = await self._authed(api.MqttCredentials, "GET", "/api/auth/mqtt-credentials")
        return MqttCredentials.from_api(answer)

    # -- devices, history, account -------------------------------------------------------------
    async def device_credentials(self, device_id: str) -> dict[str, Any]:
        """Issue (or rotate) a device's own broker login; the answer (checked against its type,
        as the API names the fields) goes into its binding."""
        answer = await self._authed(
            api.DeviceCredentials,
            "POST",
            f"/api/devices/{device_id}/credentials",
            about={DEVICE: device_id},
        )
        return msgspec.to_builtins(answer)

    async def devices(self) -> list[DeviceInfo]:
        data = await self._authed(api.Devices, "GET", "/api/devices")
        return [DeviceInfo.from_api(item) for item in data.devices]

    async def device(self, device_id: str) -> DeviceInfo:
        data = await self._authed(
            api.DeviceAnswer, "GET", f"/api/devices/{device_id}", about={DEVICE: device_id}
        )
        return DeviceInfo.from_api(data.device)

    async def add_device(
        self,
        device_id: str,
        name: str | None = None,
        claim_code: str | None = None,
        setup_code: str | None = None,
    ) -> DeviceInfo:
        """Register a device; with an owner's `setup_code` it goes to their account (installer)."""
        body: dict[str, Any] = {"deviceId": device_id}
        if name:
            body["name"] = name
        if claim_code:
            body["claimCode"] = claim_code
        if setup_code:
            body["setupCode"] = setup_code
        about = {DEVICE: device_id, FOR_OWNER: "yes"} if setup_code else {DEVICE: device_id}
        data = await self._authed(api.DeviceAnswer, "POST", "/api/devices", about=about, json=body)
        return DeviceInfo.from_api(data.device)

    async def end_setup_grant(self, device_id: str) -> None:
        """The installer is done: give up the set-up grant on the owner's device at once."""
        await self._authed(
            api.Message,
            "DELETE",
            f"/api/devices/{device_id}/setup-grant",
            about={DEVICE: device_id},
        )

    async def rename_device(self, device_id: str, name: str) -> DeviceInfo:
        data = await self._authed(
            api.DeviceAnswer,
            "PATCH",
            f"/api/devices/{device_id}",
            about={DEVICE: device_id},
            json={"name": name},
        )
        return DeviceInfo.from_api(data.device)

    async def remove_device(self, device_id: str) -> str:
        data = await self._authed(
            api.Message, "DELETE", f"/api/devices/{device_id}", about={DEVICE: device_id}
        )
        return data.message or "Device removed"

    async def history(
        self,
        device_id: str,
        *,
        event_type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> HistoryPage:
        params: dict[str, Any] = {"deviceId": device_id}
        if event_type:
            params["type"] = event_type
        if since:
            params["from"] = format_time(since)
        if until:
            params["to"] = format_time(until)
        if limit:
            params["limit"] = limit
        if cursor:
            params["cursor"] = cursor
        data = await self._authed(
            api.History, "GET", "/api/history", about={DEVICE: device_id}, params=params
        )
        events = [HistoryEvent.from_api(item) for item in data.events]
        return HistoryPage([e for e in events if e is not None], data.next_cursor or None)

    # -- sharing, set-up codes, hand-over (docs/sharing.md) --------------------------------------
    async def shares(self) -> tuple[list[Share], list[Share]]:
        """(given, received): shares this account gives, and those it was given or offered."""
        data = await self._authed(api.Shares, "GET", "/api/shares")
        return (
            [Share.from_api(item) for item in data.given],
            [Share.from_api(item) for item in data.received],
        )

    async def invite(self, username: str, role: str, device_id: str | None) -> Share:
        """Offer `username` a role on one device, or on all of this account's devices (None)."""
        body: dict[str, Any] = {"username": username, "role": role}
        if device_id:
            body["deviceId"] = device_id
        about = {USERNAME: username, DEVICE: device_id or ""}
        data = await self._authed(api.ShareAnswer, "POST", "/api/shares", about=about, json=body)
        return Share.from_api(data.share)

    async def accept_share(self, share_id: str) -> Share:
        data = await self._authed(api.ShareAnswer, "POST", f"/api/shares/{share_id}/accept")
        return Share.from_api(data.share)

    async def change_share_role(self, share_id: str, role: str) -> Share:
        data = await self._authed(
            api.ShareAnswer, "PATCH", f"/api/shares/{share_id}", json={"role": role}
        )
        return Share.from_api(data.share)

    async def end_share(self, share_id: str) -> None:
        """Withdraw, revoke, decline or leave: either side ends a share."""
        await self._authed(api.Message, "DELETE", f"/api/shares/{share_id}")

    async def create_setup_code(self) -> SetupCode:
        data = await self._authed(api.SetupCodeAnswer, "POST", "/api/setup-codes")
        return SetupCode.from_api(data.setup_code)

    async def setup_codes(self) -> list[SetupCode]:
        data = await self._authed(api.SetupCodes, "GET", "/api/setup-codes")
        return [SetupCode.from_api(item) for item in data.setup_codes]

    async def delete_setup_code(self, code_id: str) -> None:
        await self._authed(api.Answer, "DELETE", f"/api/setup-codes/{code_id}")

    async def offer_transfer(self, device_id: str, username: str, history: str) -> Transfer:
        data = await self._authed(
            api.TransferAnswer,
            "POST",
            f"/api/devices/{device_id}/transfer",
            about={DEVICE: device_id, USERNAME: username},
            json={"username": username, "history": history},
        )
        return Transfer.from_api(data.transfer)

    async def transfers(self) -> tuple[list[Transfer], list[Transfer]]:
        """(outgoing, incoming)."""
        data = await self._authed(api.Transfers, "GET", "/api/transfers")
        return (
            [Transfer.from_api(item) for item in data.outgoing],
            [Transfer.from_api(item) for item in data.incoming],
        )

    async def accept_transfer(self, transfer_id: str) -> Transfer:
        data = await self._authed(
            api.TransferAnswer, "POST", f"/api/transfers/{transfer_id}/accept"
        )
        return Transfer.from_api(data.transfer)

    async def cancel_transfer(self, transfer_id: str) -> None:
        await self._authed(api.Answer, "DELETE", f"/api/transfers/{transfer_id}")

    async def export_account(self) -> dict[str, Any]:
        data = await self._authed(api.Export, "GET", "/api/account/export")
        return data.data

    async def delete_account(self, password: str) -> None:
        await self._authed(api.Message, "DELETE", "/api/account", json={"password": password})
        self.forget_tokens()


_TRY_AGAIN = re.compile(r"[;,.]?\s*try again in \d+ seconds?\.?", re.IGNORECASE)


# The server's error codes that have a text of the app's own. A refusal with neither such a code
# nor a reason the app knows (an older server) shows the server's message as it is.
_SERVER_CODES = {
    "internal_error": Code.SERVER_FAULT,
    "overloaded": Code.SERVER_BUSY,
    "account_disabled": Code.ACCOUNT_DISABLED,
}


def _server_failure(code: str, said: str, status: int) -> Failure:
    if code in _SERVER_CODES:
        return failure(_SERVER_CODES[code])
    if said:
        return failure(Code.SERVER_SAID, message=said)
    return failure(Code.SERVER_REFUSED, status=status)


def _seconds(value: str | None) -> int | None:
    """A Retry-After in seconds. The backend sends seconds; a proxy in between may send the
    HTTP-date form (RFC 9110), read as the seconds until then."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return min(int(value), 24 * 3600)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    wait = math.ceil((when - datetime.now(UTC)).total_seconds())
    return min(max(wait, 0), 24 * 3600)
