"""A local stand-in for HiveMQ Cloud's REST API (v2), following its published endpoint list:
credentials, permissions, roles, attach/detach, client disconnect; Bearer token; error bodies
`{"errors": [{"title", "detail"}]}`; cursor pagination with `_links.next` and `limit` 50-2500.

It also answers, from what was configured through the API, the question the real cluster answers
for each MQTT client: may this username/password connect, publish or subscribe to this topic?
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pooldesk_server.broker.matching import filter_within, topic_matches

PERMISSION_FIELDS = {
    "name",
    "description",
    "topic",
    "publishAllowed",
    "subscribeAllowed",
    "qos0Allowed",
    "qos1Allowed",
    "qos2Allowed",
    "retainedMsgsAllowed",
}


def _error(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse({"errors": [{"title": title, "detail": detail}]}, status_code=status)


@dataclass
class FakeHiveMQ:
    token: str
    credentials: dict[str, str] = field(default_factory=dict)  # username -> password
    user_roles: dict[str, set[int]] = field(default_factory=dict)
    roles: dict[int, dict[str, Any]] = field(default_factory=dict)
    role_permissions: dict[int, set[int]] = field(default_factory=dict)
    permissions: dict[int, dict[str, Any]] = field(default_factory=dict)
    disconnected: list[str] = field(default_factory=list)
    down: bool = False
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    # ---- what the cluster would decide --------------------------------------------------------

    def can_connect(self, username: str, password: str) -> bool:
        return self.credentials.get(username) == password

    def _perms(self, username: str) -> list[dict[str, Any]]:
        ids = set().union(
            *(self.role_permissions.get(r, set()) for r in self.user_roles.get(username, set()))
        )
        return [self.permissions[i] for i in ids]

    def can_publish(self, username: str, topic: str, retain: bool = False) -> bool:
        return any(
            p["publishAllowed"]
            and topic_matches(p["topic"], topic)
            and (p["retainedMsgsAllowed"] or not retain)
            and p["qos1Allowed"]
            for p in self._perms(username)
        )

    def can_subscribe(self, username: str, topic_filter: str) -> bool:
        shared = topic_filter.startswith("$share/")
        group = topic_filter.split("/")[1] if shared else None
        bare = "/".join(topic_filter.split("/")[2:]) if shared else topic_filter
        return any(
            p["subscribeAllowed"]
            and filter_within(bare, p["topic"])
            and (not shared or (p.get("sharedSubAllowed") and p.get("sharedGroup") == group))
            and (shared or not p.get("sharedSubAllowed"))
            for p in self._perms(username)
        )

    # ---- HTTP -------------------------------------------------------------------------------

    def app(self) -> Starlette:
        base = "/api/v2/orgs/{org}/clusters/{cluster}"
        r = [
            Route(base + "/mqtt/credentials", self.credentials_ep, methods=["GET", "POST"]),
            Route(
                base + "/mqtt/credentials/username/{username}",
                self.credential_ep,
                methods=["GET", "DELETE"],
            ),
            Route(base + "/mqtt/permissions", self.permissions_ep, methods=["GET", "POST"]),
            Route(
                base + "/mqtt/permissions/{pid:int}", self.permission_ep, methods=["PUT", "DELETE"]
            ),
            Route(base + "/mqtt/roles", self.roles_ep, methods=["GET", "POST"]),
            Route(base + "/mqtt/roles/{rid:int}", self.role_ep, methods=["PUT", "DELETE"]),
            Route(base + "/mqtt/roles/{rid:int}/permissions", self.role_permissions_ep),
            Route(
                base + "/mqtt/roles/{rid:int}/permissions/{pid:int}/{op}",
                self.attach_perm,
                methods=["PUT"],
            ),
            Route(
                base + "/user/{username}/roles/{rid:int}/{op}", self.attach_role, methods=["PUT"]
            ),
            Route(
                base + "/mqtt/clients/{client_id}/connection", self.disconnect, methods=["DELETE"]
            ),
        ]
        return Starlette(routes=r, middleware=[])

    def _guard(self, request: Request) -> Response | None:
        if self.down:
            return _error(503, "Service Unavailable", "maintenance")
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return _error(401, "Unauthorized", "invalid token")
        return None

    def _page(self, request: Request, key: str, items: list[dict[str, Any]]) -> Response:
        try:
            limit = int(request.query_params.get("limit", 500))
        except ValueError:
            return _error(400, "Bad Request", "limit must be a number")
        if not 50 <= limit <= 2500:
            return _error(400, "Bad Request", "limit must be between 50 and 2500")
        start = int(request.query_params.get("cursor", 0))
        body: dict[str, Any] = {key: items[start : start + limit]}
        if start + limit < len(items):
            nxt = request.url.include_query_params(cursor=start + limit, limit=limit)
            body["_links"] = {"next": str(nxt)}
        return JSONResponse(body)

    async def credentials_ep(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        if request.method == "GET":
            items = [
                {
                    "userInfo": {
                        "username": u,
                        "roleRefs": [
                            {"roleId": str(r), "roleName": self.roles[r]["name"]}
                            for r in self.user_roles.get(u, ())
                        ],
                    }
                }
                for u in sorted(self.credentials)
            ]
            return self._page(request, "credentials", items)
        body = (await request.json()).get("credentials") or {}
        username, password = body.get("username"), body.get("password")
        if not username or not password:
            return _error(400, "Bad Request", "username and password are required")
        if username in self.credentials:
            return _error(409, "Conflict", f"credentials for {username} already exist")
        self.credentials[username] = password
        return JSONResponse({"credentials": {"username": username}}, status_code=200)

    async def credential_ep(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        username = request.path_params["username"]
        if username not in self.credentials:
            return _error(404, "Not Found", "no such credentials")
        if request.method == "DELETE":
            del self.credentials[username]
            self.user_roles.pop(username, None)
            return Response(status_code=204)
        return JSONResponse({"userInfo": {"username": username}})

    async def permissions_ep(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        if request.method == "GET":
            return self._page(request, "items", list(self.permissions.values()))
        body = (await request.json()).get("permission") or {}
        if not PERMISSION_FIELDS - {"description"} <= set(body):
            return _error(400, "Bad Request", "missing permission fields")
        pid = next(self._ids)
        self.permissions[pid] = {**body, "id": pid}
        return JSONResponse(self.permissions[pid])

    async def permission_ep(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        pid = request.path_params["pid"]
        if pid not in self.permissions:
            return _error(404, "Not Found", "no such permission")
        if request.method == "DELETE":
            del self.permissions[pid]
            for linked in self.role_permissions.values():
                linked.discard(pid)
            return Response(status_code=204)
        self.permissions[pid].update((await request.json()).get("permission") or {})
        return JSONResponse(self.permissions[pid])

    async def roles_ep(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        if request.method == "GET":
            return self._page(request, "items", list(self.roles.values()))
        body = (await request.json()).get("role") or {}
        if not body.get("name"):
            return _error(400, "Bad Request", "role name is required")
        if any(r["name"] == body["name"] for r in self.roles.values()):
            return _error(409, "Conflict", "role exists")
        rid = next(self._ids)
        self.roles[rid] = {"id": rid, "name": body["name"], "description": body.get("description")}
        self.role_permissions[rid] = set()
        return JSONResponse(self.roles[rid])

    async def role_ep(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        rid = request.path_params["rid"]
        if rid not in self.roles:
            return _error(404, "Not Found", "no such role")
        if request.method == "DELETE":
            del self.roles[rid]
            self.role_permissions.pop(rid, None)
            for held in self.user_roles.values():
                held.discard(rid)
            return Response(status_code=204)
        self.roles[rid].update(
            {
                k: v
                for k, v in ((await request.json()).get("role") or {}).items()
                if k in ("name", "description")
            }
        )
        return JSONResponse(self.roles[rid])

    async def role_permissions_ep(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        rid = request.path_params["rid"]
        if rid not in self.roles:
            return _error(404, "Not Found", "no such role")
        return JSONResponse(
            {"items": [self.permissions[p] for p in sorted(self.role_permissions[rid])]}
        )

    async def attach_perm(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        rid, pid, op = (request.path_params[k] for k in ("rid", "pid", "op"))
        if rid not in self.roles or pid not in self.permissions or op not in ("attach", "detach"):
            return _error(404, "Not Found", "no such role or permission")
        (self.role_permissions[rid].add if op == "attach" else self.role_permissions[rid].discard)(
            pid
        )
        return Response(status_code=204)

    async def attach_role(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        username, rid, op = (request.path_params[k] for k in ("username", "rid", "op"))
        if username not in self.credentials or rid not in self.roles:
            return _error(404, "Not Found", "no such credentials or role")
        held = self.user_roles.setdefault(username, set())
        (held.add if op == "attach" else held.discard)(rid)
        return Response(status_code=204)

    async def disconnect(self, request: Request) -> Response:
        if (denied := self._guard(request)) is not None:
            return denied
        self.disconnected.append(request.path_params["client_id"])
        return Response(status_code=204)
