"""`HttpAuthBroker`: for clustered brokers that ask the backend instead of being told.

EMQX 5 (HTTP authentication and HTTP authorization) and mosquitto-go-auth (HTTP back end) send
each connect and each topic access to the backend, which answers from the same rights the
dynamic-security back ends install. Every request must carry the shared secret as
`Authorization: Bearer <secret>`; set the broker's HTTP headers accordingly.

Broker settings (request bodies are JSON):
- EMQX authentication: POST `/mqtt/emqx/authn`, body
  `{"username": "${username}", "password": "${password}", "clientid": "${clientid}"}`.
- EMQX authorization: POST `/mqtt/emqx/authz`, body `{"username": "${username}",
  "clientid": "${clientid}", "topic": "${topic}", "action": "${action}"}`;
  turn EMQX's authorization cache off (or short) so revocation takes effect.
- mosquitto-go-auth: `auth_opt_http_getuser_uri /mqtt/go-auth/user`, `..._superuser_uri
  /mqtt/go-auth/superuser`, `..._aclcheck_uri /mqtt/go-auth/acl`, `auth_opt_http_params_mode json`,
  `auth_opt_http_response_mode json` (or `status`: both work).
- RabbitMQ (3.10+, `rabbitmq_mqtt` + `rabbitmq_auth_backend_http`, `auth_http.http_method =
  post`): `auth_http.user_path = <backend>/mqtt/rabbitmq/<secret>/user`, and `.../vhost`,
  `.../resource`, `.../topic` the same way. RabbitMQ cannot send headers, so the shared secret is
  a path segment (the backend never logs request paths). Answers are `allow` / `deny`.

The EMQX authentication answer carries no `acl`: EMQX would cache such a list for the whole
connection, so a deleted login would keep its rights until it disconnects. Without it, every
publish/subscribe goes to `/mqtt/emqx/authz`, which answers from the current logins.

A deleted or rotated login is refused on its next connect and every later authorization; to cut
its open connection at once, configure `kick` (with EMQX: `EmqxKick`, EMQX's REST API
`DELETE /api/v5/clients/{clientid}`; set POOLDESK_EMQX_API_URL, POOLDESK_EMQX_API_KEY and
POOLDESK_EMQX_API_SECRET). Without it an open connection stays until the broker drops it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from pooldesk_server.broker.base import BrokerHealth, BrokerLogin, BrokerRejected, BrokerUnavailable
from pooldesk_server.broker.matching import Access, allowed
from pooldesk_server.broker.rights import (
    AclRule,
    InvalidTopicName,
    Rights,
    check_rights,
    loses_a_right,
)
from pooldesk_server.broker.store import write_private

log = logging.getLogger(__name__)

GO_AUTH_ACCESS: dict[int, tuple[Access, ...]] = {
    1: ("receive",),
    2: ("publish",),
    3: ("receive", "publish"),
    4: ("subscribe",),
}
EMQX_ACTIONS: dict[str, Access] = {"publish": "publish", "subscribe": "subscribe"}


@dataclass(frozen=True)
class StoredLogin:
    """A login as this back end keeps it: the password only as a salted hash."""

    username: str
    client_id: str
    salt: bytes
    digest: bytes
    rights: Rights

    @classmethod
    def from_login(cls, login: BrokerLogin) -> StoredLogin:
        salt = secrets.token_bytes(16)
        return cls(
            login.username, login.client_id, salt, _digest(salt, login.password), login.rights
        )

    def password_ok(self, password: str) -> bool:
        return hmac.compare_digest(self.digest, _digest(self.salt, password))


def _digest(salt: bytes, password: str) -> bytes:
    # Passwords are 192-bit random strings made by `new_password`, so a salted SHA-256 is
    # already beyond brute force; a slow hash would only slow every broker connect.
    return hashlib.sha256(salt + password.encode()).digest()


class LoginFile:
    """Logins kept in one JSON file (0600). Fine for one backend instance; several instances need
    a shared store (the database) implementing the same four methods."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._logins: dict[str, StoredLogin] = {}
        if path is not None and path.exists():
            for item in json.loads(path.read_text()):
                self._logins[item["username"]] = StoredLogin(
                    item["username"],
                    item["client_id"],
                    bytes.fromhex(item["salt"]),
                    bytes.fromhex(item["digest"]),
                    tuple(AclRule(**rule) for rule in item["rights"]),
                )

    def get(self, username: str) -> StoredLogin | None:
        return self._logins.get(username)

    def put(self, logins: Sequence[StoredLogin]) -> None:
        self._logins.update({login.username: login for login in logins})
        self._save()

    def delete(self, username: str) -> None:
        if self._logins.pop(username, None) is not None:
            self._save()

    def names(self) -> set[str]:
        return set(self._logins)

    def _save(self) -> None:
        if self.path is None:
            return
        items = [
            {
                "username": s.username,
                "client_id": s.client_id,
                "salt": s.salt.hex(),
                "digest": s.digest.hex(),
                "rights": [rule.__dict__ for rule in s.rights],
            }
            for s in self._logins.values()
        ]
        write_private(self.path, json.dumps(items))


class HttpAuthBroker:
    """Implements `BrokerBackend` by remembering logins and answering the broker's questions."""

    name = "http-auth"

    def __init__(
        self,
        *,
        broker_url: str,
        shared_secret: str,
        store: LoginFile | None = None,
        ca_cert_pem: str | None = None,
        kick: Callable[[str], Awaitable[None]] | None = None,
    ) -> None:
        if len(shared_secret) < 32:
            raise ValueError("the http-auth shared secret must be at least 32 characters")
        self._broker_url = broker_url
        self._secret = shared_secret.encode()
        self.store = store or LoginFile(None)
        self._used: dict[str, int] = {}  # login -> its latest log-in since it was put
        self._log_ins = itertools.count(1)
        self._ca = ca_cert_pem
        self._kick = kick

    @property
    def broker_url(self) -> str:
        return self._broker_url

    @property
    def ca_cert_pem(self) -> str | None:
        return self._ca

    async def start(self) -> None:
        if self._kick is None:
            log.warning(
                "http-auth without a kick: a deleted login or a narrowed share is refused from "
                "the broker's next question, but a live connection keeps the subscriptions it "
                "already made until it reconnects; set POOLDESK_EMQX_API_URL, "
                "POOLDESK_EMQX_API_KEY and POOLDESK_EMQX_API_SECRET so the backend can cut it"
            )

    async def stop(self) -> None:
        return None

    async def put_login(self, login: BrokerLogin) -> None:
        await self.put_logins([login])

    async def put_logins(self, logins: Sequence[BrokerLogin]) -> None:
        for login in logins:
            try:
                check_rights(login.rights)
            except InvalidTopicName as error:
                raise BrokerRejected(f"rights of {login.username!r}: {error}") from None
        stored = [StoredLogin.from_login(login) for login in logins]
        await asyncio.to_thread(self.store.put, stored)
        for login in logins:
            self._used.pop(login.username, None)

    async def delete_login(self, username: str) -> None:
        """Kick the login's connection (if a kick is configured), then forget the login. A kick
        that fails raises `BrokerUnavailable` with nothing changed, so the deletion is retried."""
        existing = self.store.get(username)
        if existing is not None and self._kick is not None:
            await self._kick(existing.client_id)
        await asyncio.to_thread(self.store.delete, username)
        self._used.pop(username, None)

    async def change_rights(self, username: str, rights: Rights) -> bool:
        """The broker asks at each connect, subscribe and publish (EMQX's authn answer carries
        no ACL to cache), so the new rights apply from the next question; a login that lost a
        right has its live connection kicked (if a kick is configured), since a subscription
        already made is not asked again."""
        try:
            check_rights(rights)
        except InvalidTopicName as error:
            raise BrokerRejected(f"rights of {username!r}: {error}") from None
        existing = self.store.get(username)
        if existing is None:
            return False
        await asyncio.to_thread(self.store.put, [replace(existing, rights=rights)])
        if self._kick is not None and loses_a_right(existing.rights, rights):
            await self._kick(existing.client_id)
        return True

    async def list_logins(self) -> set[str]:
        return self.store.names()

    async def logins_used(self, usernames: Sequence[str]) -> dict[str, int] | None:
        return {name: self._used[name] for name in usernames if name in self._used}

    async def health(self) -> BrokerHealth:
        return BrokerHealth(True, f"answering HTTP auth for {len(self.store.names())} logins")

    # ---- decisions ---------------------------------------------------------------------------

    def authenticate(self, username: str, password: str, client_id: str) -> StoredLogin | None:
        login = self.store.get(username)
        if login is None:
            _digest(b"0" * 16, password)  # same work whether or not the login exists
            return None
        if not login.password_ok(password) or not hmac.compare_digest(
            login.client_id.encode(), client_id.encode()
        ):
            return None
        self._used[username] = next(self._log_ins)
        return login

    def authorize(self, username: str, client_id: str, access: Access, topic: str) -> bool:
        login = self.store.get(username)
        if login is None or login.client_id != client_id:
            return False
        return allowed(login.rights, access, topic)

    def secret_value_ok(self, value: str) -> bool:
        return hmac.compare_digest(value.encode(), self._secret)

    def secret_ok(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(value.encode(), self._secret)


class EmqxKick:
    """Disconnect a client through EMQX 5's REST API: `DELETE {api_url}/clients/{clientid}` with
    an API key and secret (HTTP basic auth). 204 = kicked, 404 = not connected: both fine."""

    def __init__(
        self,
        api_url: str,
        api_key: str,
        api_secret: str,
        *,
        timeout: float = 5.0,
        verify: bool | str = True,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._auth = (api_key, api_secret)
        self.timeout, self.verify = timeout, verify

    async def __call__(self, client_id: str) -> None:
        url = f"{self.api_url}/clients/{quote(client_id, safe='')}"
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=self.verify) as http:
                answer = await http.delete(url, auth=self._auth)
        except httpx.HTTPError as error:
            raise BrokerUnavailable(f"EMQX's API at {self.api_url} failed: {error}") from None
        if answer.status_code in (200, 204, 404):
            return
        if answer.status_code in (401, 403):
            raise BrokerRejected(
                f"EMQX's API refused the API key ({answer.status_code}): check "
                "POOLDESK_EMQX_API_KEY / POOLDESK_EMQX_API_SECRET"
            )
        raise BrokerUnavailable(f"EMQX's API answered {answer.status_code} to a client kick")


async def _body(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict) or not all(isinstance(v, str | int) for v in body.values()):
        return None
    return body


RABBIT_QUEUE_SUFFIXES = ("qos0", "qos1")


def rabbit_topic(routing_key: str) -> str:
    """An AMQP routing key (or binding pattern) back as the MQTT topic (filter) it came from:
    RabbitMQ's MQTT plugin swaps `/` and `.` and turns `+` into `*` (`#` stays)."""
    return routing_key.translate(str.maketrans("./*", "/.+"))


def rabbit_decision(broker: HttpAuthBroker, kind: str, form: dict[str, str]) -> bool:
    """RabbitMQ's HTTP auth back end: may this (login, client id) do this?"""
    username = form.get("username", "")
    client_id = form.get("client_id") or form.get("variable_map.client_id", "")
    if kind == "user":
        return broker.authenticate(username, form.get("password", ""), client_id) is not None
    login = broker.store.get(username)
    if login is None or not hmac.compare_digest(login.client_id.encode(), client_id.encode()):
        return False
    if form.get("vhost") != "/":
        return False
    if kind == "vhost":
        return True
    if kind == "resource":
        resource, name = form.get("resource"), form.get("name", "")
        if resource == "exchange":  # MQTT publishes to and binds on amq.topic only
            return name == "amq.topic" and form.get("permission") in ("read", "write")
        queues = {f"mqtt-subscription-{login.client_id}{s}" for s in RABBIT_QUEUE_SUFFIXES}
        return resource == "queue" and name in queues  # its own session queues only
    if kind == "topic":
        topic = rabbit_topic(form.get("routing_key", ""))
        permission = form.get("permission")
        if permission == "write":
            return broker.authorize(username, client_id, "publish", topic)
        if permission == "read":  # asked when binding, i.e. at subscribe: never on delivery
            return broker.authorize(username, client_id, "subscribe", topic)
    return False


def rabbit_routes(broker: HttpAuthBroker, prefix: str) -> list[Route]:
    async def endpoint(request: Request) -> Response:
        form: dict[str, str] = {}
        if request.method == "POST":
            form = dict(parse_qsl((await request.body()).decode(errors="replace")))
        else:
            form = dict(request.query_params)
        kind = str(request.path_params["kind"])
        secret = str(request.path_params["secret"])
        ok = broker.secret_value_ok(secret) and rabbit_decision(broker, kind, form)
        return PlainTextResponse("allow" if ok else "deny")

    return [Route(f"{prefix}/rabbitmq/{{secret}}/{{kind:str}}", endpoint, methods=["GET", "POST"])]


def http_auth_routes(broker: HttpAuthBroker, prefix: str = "/mqtt") -> list[Route]:
    """Starlette routes answering EMQX and mosquitto-go-auth; mount them in the backend's app."""

    def guarded(
        handler: Callable[[dict[str, Any]], Response], deny: Callable[[str], Response]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if not broker.secret_ok(request):
                return JSONResponse({"ok": False, "error": "unauthorized"}, status_code=401)
            body = await _body(request)
            if body is None:
                return deny("request body must be a JSON object of strings")
            return handler(body)

        return endpoint

    def emqx_deny(reason: str) -> Response:
        return JSONResponse({"result": "deny", "reason": reason}, status_code=200)

    def emqx_authn(body: dict[str, Any]) -> Response:
        login = broker.authenticate(
            str(body.get("username", "")),
            str(body.get("password", "")),
            str(body.get("clientid", "")),
        )
        if login is None:
            return emqx_deny("bad username, password or client id")
        # No `acl` here: EMQX would cache it for the connection and never ask authz again.
        return JSONResponse({"result": "allow", "is_superuser": False})

    def emqx_authz(body: dict[str, Any]) -> Response:
        access = EMQX_ACTIONS.get(str(body.get("action", "")))
        ok = access is not None and broker.authorize(
            str(body.get("username", "")),
            str(body.get("clientid", "")),
            access,
            str(body.get("topic", "")),
        )
        return JSONResponse({"result": "allow" if ok else "deny"})

    def go_deny(reason: str) -> Response:
        return JSONResponse({"ok": False, "error": reason}, status_code=403)

    def go_ok() -> Response:
        return JSONResponse({"ok": True, "error": ""})

    def go_user(body: dict[str, Any]) -> Response:
        login = broker.authenticate(
            str(body.get("username", "")),
            str(body.get("password", "")),
            str(body.get("clientid", "")),
        )
        return go_ok() if login else go_deny("bad username, password or client id")

    def go_superuser(_body: dict[str, Any]) -> Response:
        return go_deny("no superusers")

    def go_acl(body: dict[str, Any]) -> Response:
        try:
            accesses = GO_AUTH_ACCESS.get(int(body.get("acc", 0)), ())
        except (TypeError, ValueError):
            accesses = ()
        username, client_id, topic = (
            str(body.get("username", "")),
            str(body.get("clientid", "")),
            str(body.get("topic", "")),
        )
        ok = bool(accesses) and all(
            broker.authorize(username, client_id, access, topic) for access in accesses
        )
        return go_ok() if ok else go_deny("not authorized")

    return [
        Route(f"{prefix}/emqx/authn", guarded(emqx_authn, emqx_deny), methods=["POST"]),
        Route(f"{prefix}/emqx/authz", guarded(emqx_authz, emqx_deny), methods=["POST"]),
        Route(f"{prefix}/go-auth/user", guarded(go_user, go_deny), methods=["POST"]),
        Route(f"{prefix}/go-auth/superuser", guarded(go_superuser, go_deny), methods=["POST"]),
        Route(f"{prefix}/go-auth/acl", guarded(go_acl, go_deny), methods=["POST"]),
        *rabbit_routes(broker, prefix),
    ]
