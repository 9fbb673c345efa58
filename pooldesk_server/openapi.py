"""The OpenAPI 3.1 document, built from the app's own route table so it cannot drift from it:
every (path, method) the router serves must have an entry in OPERATIONS (a test checks both
ways), and paths the router does not serve are never listed."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute, Route

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
DEVICE_ID = {"type": "string", "pattern": "^[Ee][Ss][Pp]-[0-9A-Fa-f]{6}$", "example": "ESP-A1B2C3"}


def obj(required: list[str] | None = None, **properties: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


USER = obj(id=STRING, username=STRING, email=STRING, deviceId=NULLABLE_STRING)
DEVICE = obj(
    deviceId=STRING,
    name=STRING,
    type=STRING,
    topicPrefix=STRING,
    status=STRING,
    lastSeen=NULLABLE_TIME,
    createdAt=TIME,
)
TOKENS = obj(
    token=STRING,
    expiresIn={"type": "integer"},
    refreshToken=STRING,
    refreshExpiresIn={"type": "integer"},
    sessionId=STRING,
)
EVENT = obj(id={"type": "integer"}, deviceId=STRING, type=STRING, ts=TIME, data={})
SESSION = obj(
    id=STRING,
    createdAt=TIME,
    lastUsedAt=TIME,
    expiresAt=TIME,
    userAgent=STRING,
    clientAddress=STRING,
    current={"type": "boolean"},
)
AUDIT_ENTRY = obj(
    id={"type": "integer"},
    at=TIME,
    event=STRING,
    outcome={"enum": ["success", "failure"]},
    clientAddress=STRING,
    detail={"type": "object"},
)
MESSAGE = obj(message=STRING)
PASSWORD = {"type": "string", "minLength": 12, "description": "upper, lower, digit, symbol"}

SHARE = obj(
    id=STRING,
    owner=STRING,
    member=STRING,
    deviceId=NULLABLE_STRING,
    role={"enum": ["operator", "viewer"]},
    status={"enum": ["pending", "active"]},
    createdAt=TIME,
    acceptedAt=NULLABLE_TIME,
)
ROLE = {"enum": ["operator", "viewer"]}
SHARES = {"type": "array", "items": SHARE}

BEARER = [{"bearer": []}]
BEARER_OR_KEY = [{"bearer": []}, {"apiKey": []}]


def op(
    summary: str,
    *,
    body: dict[str, Any] | None = None,
    ok_status: int = 200,
    result: dict[str, Any] | None = None,
    errors: tuple[int, ...] = (),
    security: list[dict[str, list[str]]] | None = None,
    query: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    success = {"allOf": [obj(["ok"], ok={"const": True}), result or {}]}
    responses: dict[str, Any] = {
        str(ok_status): {
            "description": "success",
            "content": {"application/json": {"schema": success}},
        }
    }
    statuses = set(errors)
    if body is not None:
        statuses |= {400, 413}
    if security:
        statuses.add(401)
    for status in sorted(statuses):
        responses[str(status)] = {"$ref": "#/components/responses/Error"}
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    if security:
        operation["security"] = security
    if query:
        operation["parameters"] = [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in query.items()
        ]
    return operation


OPERATIONS: dict[tuple[str, str], dict[str, Any]] = {
    ("/healthz", "GET"): op("Liveness and database check", result=obj(status=STRING)),
    ("/openapi.json", "GET"): op("This document"),
    ("/api/auth/register", "POST"): op(
        "Create an account; the deviceId (optional) becomes its first device",
        body=obj(
            ["username", "email", "password"],
            username={"type": "string", "pattern": "^[a-z0-9_-]{3,32}$"},
            email={"type": "string", "format": "email"},
            password=PASSWORD,
            deviceId=DEVICE_ID,
            claimCode=STRING,
        ),
        ok_status=201,
        result=obj(message=STRING, userId=STRING, deviceId=NULLABLE_STRING, username=STRING),
        errors=(403, 409, 429),
    ),
    ("/api/auth/login", "POST"): op(
        "Sign in",
        body=obj(["username", "password"], username=STRING, password=STRING),
        result={"allOf": [TOKENS, obj(user=USER)]},
        errors=(401, 403, 429),  # 403 account_disabled
    ),
    ("/api/auth/refresh", "POST"): op(
        "Rotate a refresh token (a spent one: the same pair in 30 s, else ends the session)",
        body=obj(["refreshToken"], refreshToken=STRING),
        result=TOKENS,
        errors=(401, 403),
    ),
    ("/api/auth/logout", "POST"): op("End this session", result=MESSAGE, security=BEARER),
    ("/api/auth/verify", "GET"): op(
        "Check the access token", result=obj(user=USER, sessionId=STRING), security=BEARER
    ),
    ("/api/auth/sessions", "GET"): op(
        "Active sessions",
        result=obj(sessions={"type": "array", "items": SESSION}),
        security=BEARER,
    ),
    ("/api/auth/sessions/{session_id}", "DELETE"): op(
        "End one session", result=MESSAGE, errors=(404,), security=BEARER
    ),
    ("/api/auth/password", "POST"): op(
        "Change the password; other sessions end",
        body=obj(["currentPassword", "newPassword"], currentPassword=STRING, newPassword=PASSWORD),
        result=MESSAGE,
        errors=(403, 429),
        security=BEARER,
    ),
    ("/api/devices", "GET"): op(
        "Your devices", result=obj(devices={"type": "array", "items": DEVICE}), security=BEARER
    ),
    ("/api/devices", "POST"): op(
        "Add a device (with setupCode: an installer adds it to the code's owner)",
        body=obj(["deviceId"], deviceId=DEVICE_ID, name=STRING, claimCode=STRING, setupCode=STRING),
        ok_status=201,
        result=obj(device=DEVICE),
        errors=(403, 409, 429),
        security=BEARER,
    ),
    ("/api/shares", "POST"): op(
        "Invite an account to one device (or all of yours) as operator or viewer",
        body=obj(["username", "role"], username=STRING, role=ROLE, deviceId=DEVICE_ID),
        ok_status=201,
        result=obj(share=SHARE),
        errors=(404, 409),
        security=BEARER,
    ),
    ("/api/shares", "GET"): op(
        "Shares you gave and received (received pending ones: the invitation inbox)",
        result=obj(given=SHARES, received=SHARES),
        security=BEARER,
    ),
    ("/api/shares/{share_id}/accept", "POST"): op(
        "Accept an invitation", result=obj(share=SHARE), errors=(404,), security=BEARER
    ),
    ("/api/shares/{share_id}", "PATCH"): op(
        "Change a share's role (owner only)",
        body=obj(["role"], role=ROLE),
        result=obj(share=SHARE),
        errors=(403, 404),
        security=BEARER,
    ),
    ("/api/shares/{share_id}", "DELETE"): op(
        "End a share (either side)", result=MESSAGE, errors=(404,), security=BEARER
    ),
    ("/api/setup-codes", "POST"): op(
        "A one-time set-up code for an installer (15 minutes, single use; shown once)",
        ok_status=201,
        result=obj(setupCode=obj(id=STRING, code=STRING, expiresAt=TIME)),
        errors=(409,),
        security=BEARER,
    ),
    ("/api/setup-codes", "GET"): op(
        "Your live set-up codes (without the codes)",
        result=obj(
            setupCodes={"type": "array", "items": obj(id=STRING, expiresAt=TIME, createdAt=TIME)}
        ),
        security=BEARER,
    ),
    ("/api/setup-codes/{code_id}", "DELETE"): op(
        "Delete a set-up code", result=MESSAGE, errors=(404,), security=BEARER
    ),
    ("/api/devices/{device_id}/setup-grant", "DELETE"): op(
        "The installer ends their set-up access to the device",
        result=MESSAGE,
        errors=(404,),
        security=BEARER,
    ),
    ("/api/devices/{device_id}", "GET"): op(
        "One device you own, is shared with you, or you are setting up (with owner and role)",
        result=obj(device=DEVICE),
        errors=(404,),
        security=BEARER,
    ),
    ("/api/devices/{device_id}", "PATCH"): op(
        "Rename a device",
        body=obj(["name"], name={"type": "string", "minLength": 1, "maxLength": 64}),
        result=obj(device=DEVICE),
        errors=(404,),
        security=BEARER,
    ),
    ("/api/devices/{device_id}", "DELETE"): op(
        "Unbind a device (its history goes too)", result=MESSAGE, errors=(404,), security=BEARER
    ),
    ("/api/devices/{device_id}/api-key", "POST"): op(
        "Issue a new API key for the device (the old one stops working); shown once",
        ok_status=201,
        result=obj(deviceId=STRING, apiKey=STRING),
        errors=(404,),
        security=BEARER,
    ),
    ("/api/event", "POST"): op(
        "Record a device event",
        body=obj(["type"], deviceId=DEVICE_ID, type=STRING, data={}, ts=TIME),
        ok_status=201,
        result=obj(event=EVENT),
        errors=(403, 404),
        security=BEARER_OR_KEY,
    ),
    ("/api/history", "GET"): op(
        "Device history, newest first, paginated",
        result=obj(events={"type": "array", "items": EVENT}, nextCursor=NULLABLE_STRING),
        errors=(400, 403, 404),
        security=BEARER_OR_KEY,
        query={
            "deviceId": DEVICE_ID,
            "type": STRING,
            "from": TIME,
            "to": TIME,
            "limit": {"type": "integer", "minimum": 1, "maximum": 1000},
            "cursor": STRING,
        },
    ),
    ("/api/account", "DELETE"): op(
        "Delete the account and all its data",
        body=obj(["password"], password=STRING),
        result=MESSAGE,
        errors=(403, 429),
        security=BEARER,
    ),
    ("/api/account/export", "GET"): op(
        "All of your data as JSON", result=obj(data={"type": "object"}), security=BEARER
    ),
    ("/api/account/audit", "GET"): op(
        "Your audit log, newest first",
        result=obj(entries={"type": "array", "items": AUDIT_ENTRY}, nextCursor=NULLABLE_STRING),
        errors=(400,),
        security=BEARER,
        query={"limit": {"type": "integer", "minimum": 1, "maximum": 500}, "cursor": STRING},
    ),
}

ERROR = obj(
    ["ok", "error"],
    ok={"const": False},
    error=obj(["code", "message"], code=STRING, message=STRING),
)


def served_operations(routes: list[BaseRoute]) -> set[tuple[str, str]]:
    served: set[tuple[str, str]] = set()
    for item in routes:
        if isinstance(item, Route) and item.methods:
            for method in item.methods:
                if method != "HEAD":
                    served.add((item.path, method))
    return served


def build_document(
    routes: list[BaseRoute], operations: dict[tuple[str, str], dict[str, Any]]
) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for path, method in sorted(served_operations(routes)):
        operation = operations.get((path, method))
        if operation is None:
            raise RuntimeError(f"{method} {path} has no OpenAPI entry")
        paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "PoolDesk backend", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "responses": {
                "Error": {
                    "description": "error envelope",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }
