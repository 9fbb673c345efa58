"""One Route per path with a handler per method, so 405 answers list every allowed method."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Handler = Callable[[Request], Awaitable[Response]]


def route(path: str, handlers: Mapping[str, Handler]) -> Route:
    table = {method.upper(): handler for method, handler in handlers.items()}
    if "GET" in table:
        table.setdefault("HEAD", table["GET"])  # Starlette allows HEAD wherever GET is

    async def dispatch(request: Request) -> Response:
        return await table[request.method](request)

    dispatch.__name__ = "_".join(h.__name__ for m, h in table.items() if m != "HEAD")
    route_ = Route(path, dispatch, methods=list(table))
    route_.handlers = table  # type: ignore[attr-defined]
    return route_
