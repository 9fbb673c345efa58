"""Every answer the backend tests receive is checked against the server's own /openapi.json:
its status must be listed for the operation and its body must match that status's schema
(jsonschema, draft 2020-12, as OpenAPI 3.1 says). Paths or methods the document does not
list (an unknown route's 404, a wrong method's 405) must still be the error envelope."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from jsonschema import Draft202012Validator

ENVELOPE = {
    "type": "object",
    "required": ["ok", "error"],
    "properties": {
        "ok": {"const": False},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "reason": {"type": "string"},
            },
        },
    },
}


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


class ContractChecker:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._paths = [
            (re.compile("^" + re.sub(r"{[^/]+}", "[^/]+", path) + "$"), path)
            for path in document["paths"]
        ]
        self._validators: dict[str, Draft202012Validator] = {}

    def _validator(self, pointer: str) -> Draft202012Validator:
        validator = self._validators.get(pointer)
        if validator is None:
            validator = Draft202012Validator({**self.document, "$ref": pointer})
            self._validators[pointer] = validator
        return validator

    def check(self, method: str, path: str, status: int, content: bytes) -> None:
        where = f"{method} {path} -> {status}"
        template = next((t for rx, t in self._paths if rx.match(path)), None)
        operation = (
            self.document["paths"][template].get(method.lower()) if template is not None else None
        )
        if method == "HEAD":
            return
        if operation is None:
            assert status in (404, 405), f"{where}: not in /openapi.json"
            Draft202012Validator(ENVELOPE).validate(json.loads(content))
            return
        responses = operation["responses"]
        assert str(status) in responses, (
            f"{where}: status not listed in /openapi.json (lists {sorted(responses)})"
        )
        response = responses[str(status)]
        if "application/json" not in response.get("content", {"application/json": None}):
            return  # e.g. /metrics: Prometheus text
        body = json.loads(content) if content else None
        if "$ref" in response:
            name = response["$ref"].rsplit("/", 1)[-1]
            pointer = _pointer(
                "components", "responses", name, "content", "application/json", "schema"
            )
        else:
            pointer = _pointer(
                "paths", template, method.lower(), "responses", str(status), "content",
                "application/json", "schema",
            )  # fmt: skip
        errors = sorted(self._validator(pointer).iter_errors(body), key=str)
        assert not errors, f"{where}: answer violates /openapi.json: {errors[0].message}"


def response_hook(checker: ContractChecker):
    async def check(response: httpx.Response) -> None:
        await response.aread()
        checker.check(
            response.request.method,
            response.request.url.path,
            response.status_code,
            response.content,
        )

    return check
