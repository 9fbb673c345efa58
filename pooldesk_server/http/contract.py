"""The OpenAPI 3.1 document, generated from the route table and the body types of
`pooldesk.core.api_types` (the same types the handlers validate with and answer with).

Every (path, method) the router serves must have an `Operation` (building the app fails
otherwise), and paths the router does not serve are never listed. Path parameters are declared
from the route's own path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from starlette.routing import BaseRoute, Route

from pooldesk.core import api_types as api

REF = "#/components/schemas/{name}"
PATH_PARAMETER = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)}")
PATH_PARAMETER_DOCS = {
    "device_id": ("A device id, ESP- and 6 hex digits (any case)", "ESP-A1B2C3"),
    "session_id": ("A session id, as GET /api/auth/sessions lists them", None),
    "share_id": ("A share id, as GET /api/shares lists them", None),
    "code_id": ("A set-up code id, as GET /api/setup-codes lists them", None),
}


@dataclass(frozen=True)
class Query:
    name: str
    schema: dict[str, Any]
    description: str = ""


@dataclass(frozen=True)
class Operation:
    summary: str
    answer: type | None  # None: a free-form JSON object (the document itself, broker hooks)
    status: int = 200
    body: type | None = None
    errors: tuple[int, ...] = ()
    security: tuple[str, ...] = ()  # "bearer", "apiKey": any one of them
    query: tuple[Query, ...] = ()
    # A status whose body is not the plain error envelope (e.g. 503 of the readiness probe).
    error_answers: Mapping[int, type] = field(default_factory=dict)
    media_type: str = "application/json"  # of the success answer (text/plain: a string)


BEARER = ("bearer",)
BEARER_OR_KEY = ("bearer", "apiKey")
TIME_QUERY = {"type": "string", "format": "date-time"}


def served_operations(routes: list[BaseRoute]) -> set[tuple[str, str]]:
    served: set[tuple[str, str]] = set()
    for item in routes:
        if isinstance(item, Route) and item.methods:
            for method in item.methods:
                if method != "HEAD":
                    served.add((item.path, method))
    return served


def _types(operations: Mapping[tuple[str, str], Operation]) -> list[type]:
    found: list[type] = [api.ErrorAnswer]
    for operation in operations.values():
        for kind in (operation.answer, operation.body, *operation.error_answers.values()):
            if kind is not None and kind not in found:
                found.append(kind)
    return found


def _schemas(types: list[type]) -> tuple[dict[type, dict[str, Any]], dict[str, Any]]:
    refs, components = msgspec.json.schema_components(types, ref_template=REF)
    for schema in components.values():
        # `ok` has a default in the types (so handlers need not pass it) but is always sent.
        if "ok" in schema.get("properties", {}):
            required = schema.setdefault("required", [])
            if "ok" not in required:
                required.insert(0, "ok")
    return dict(zip(types, refs, strict=True)), components


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _operation(
    path: str, operation: Operation, refs: Mapping[type, dict[str, Any]]
) -> dict[str, Any]:
    answer = refs[operation.answer] if operation.answer is not None else {"type": "object"}
    content = _json(answer)
    if operation.media_type != "application/json":
        content = {operation.media_type: {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {
        str(operation.status): {"description": operation.summary, "content": content}
    }
    statuses = set(operation.errors) | set(operation.error_answers)
    if operation.body is not None:
        statuses |= {400, 413}
    if operation.security:
        statuses.add(401)
    if PATH_PARAMETER.search(path):
        statuses.add(404)
    for status in sorted(statuses):
        special = operation.error_answers.get(status)
        if special is not None:
            responses[str(status)] = {"description": "not ready", "content": _json(refs[special])}
        else:
            responses[str(status)] = {"$ref": "#/components/responses/Error"}
    result: dict[str, Any] = {"summary": operation.summary, "responses": responses}
    parameters: list[dict[str, Any]] = []
    for name in PATH_PARAMETER.findall(path):
        description, example = PATH_PARAMETER_DOCS.get(name, ("", None))
        parameter: dict[str, Any] = {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1},
            "description": description,
        }
        if example:
            parameter["example"] = example
        parameters.append(parameter)
    for query in operation.query:
        parameters.append(
            {
                "name": query.name,
                "in": "query",
                "required": False,
                "schema": query.schema,
                "description": query.description,
            }
        )
    if parameters:
        result["parameters"] = parameters
    if operation.body is not None:
        result["requestBody"] = {"required": True, "content": _json(refs[operation.body])}
    if operation.security:
        result["security"] = [{scheme: []} for scheme in operation.security]
    return result


def build_document(
    routes: list[BaseRoute], operations: Mapping[tuple[str, str], Operation]
) -> dict[str, Any]:
    served = sorted(served_operations(routes))
    missing = [f"{method} {path}" for path, method in served if (path, method) not in operations]
    if missing:
        raise RuntimeError("no OpenAPI operation for: " + ", ".join(missing))
    used = {key: operations[key] for key in served}
    refs, components = _schemas(_types(used))
    paths: dict[str, dict[str, Any]] = {}
    for path, method in served:
        paths.setdefault(path, {})[method.lower()] = _operation(path, used[(path, method)], refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "PoolDesk backend", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": {
                "Error": {
                    "description": "the error envelope",
                    "content": _json(refs[api.ErrorAnswer]),
                }
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
    }
