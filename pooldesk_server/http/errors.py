"""The error envelope `{"ok": false, "error": {"code", "message", "reason"?}}` and its handlers.

`code` is the kind of refusal, one per status (`conflict` for every 409); `reason`, where given,
tells apart refusals that share a code but mean different things (`device_registered_elsewhere`
and `device_on_your_account` are both 409 `conflict`), for programs; `message` is for people.
The reasons are the contract's (docs/backend.md "HTTP API") and never change with the wording.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from pooldesk_contract.refusals import Reason

log = logging.getLogger("pooldesk_server.http")

STATUS_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("payload_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Send the body as JSON"),
    429: ("rate_limited", "Too many requests"),
}


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        reason: Reason | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.reason = reason


def validation_error(message: str, *, reason: Reason | None = None) -> ApiError:
    return ApiError(400, "validation_error", message, reason=reason)


def unauthorized(message: str = "Invalid or expired token") -> ApiError:
    return ApiError(401, "unauthorized", message, {"WWW-Authenticate": "Bearer"})


def forbidden(message: str, *, reason: Reason) -> ApiError:
    return ApiError(403, "forbidden", message, reason=reason)


def not_found(message: str, *, reason: Reason) -> ApiError:
    return ApiError(404, "not_found", message, reason=reason)


def malformed_device_id() -> ApiError:
    """404 for a device id in a path that no device can have: not found, like any other."""
    return not_found(
        "No such device: device ids look like ESP-XXXXXX", reason=Reason.DEVICE_NOT_FOUND
    )


def conflict(message: str, *, reason: Reason) -> ApiError:
    return ApiError(409, "conflict", message, reason=reason)


def overloaded(wait: int) -> ApiError:
    """503: the server cannot take this request now; the client should retry after `wait` s."""
    return ApiError(
        503,
        "overloaded",
        f"The server is busy; try again in {wait} seconds",
        {"Retry-After": str(wait)},
    )


def error_response(
    status: int,
    code: str,
    message: str,
    headers: Mapping[str, str] | None = None,
    reason: Reason | None = None,
) -> JSONResponse:
    error = {"code": code, "message": message}
    if reason is not None:
        error["reason"] = reason
    body = {"ok": False, "error": error}
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


async def handle_api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers, exc.reason)


async def handle_http_exception(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code, default_message = STATUS_CODES.get(exc.status_code, ("error", "Request failed"))
    reason = None
    if exc.status_code == 404:
        message = f"No such endpoint: {request.method} {request.url.path}"
        reason = Reason.NO_SUCH_ROUTE
    elif exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        message = f"Method {request.method} is not allowed here" + (
            f"; use {allowed}" if allowed else ""
        )
    else:
        message = default_message
    return error_response(exc.status_code, code, message, exc.headers, reason)


async def handle_unexpected(request: Request, _exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(
        500, "internal_error", "Internal server error; the operator log has details"
    )


# How long a client is told to wait after the database was too busy to answer in time.
BUSY_RETRY_AFTER_SECONDS = 2


def is_database_busy(exc: BaseException) -> bool:
    """The database could not take the request in time (no pooled connection came free, or
    SQLite's write lock stayed taken past the busy timeout): overload, not a bug."""
    if isinstance(exc, PoolTimeout):
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


async def handle_database_error(request: Request, exc: Exception) -> JSONResponse:
    """503 with Retry-After when the database was too busy; any other failure is a 500."""
    if not is_database_busy(exc):
        return await handle_unexpected(request, exc)
    log.warning("database too busy for %s %s: %s", request.method, request.url.path, exc)
    return await handle_api_error(request, overloaded(BUSY_RETRY_AFTER_SECONDS))
