"""The app's router finds exact paths in a dict: it must answer every request exactly as
Starlette's own router (which tries each route in turn) would."""

from __future__ import annotations

import itertools

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, Router

from pooldesk_server.http.routing import ExactPathRouter


def _named(name: str):
    async def endpoint(request: Request) -> PlainTextResponse:
        return PlainTextResponse(f"{name} {dict(request.path_params)}")

    return endpoint


ROUTES = [
    Route("/items/{item}", _named("item"), methods=["GET"]),
    Route("/items/new", _named("new"), methods=["GET", "POST"]),  # shadowed by the one above
    Route("/plain", _named("plain"), methods=["GET"]),
    Route("/only-post", _named("only-post"), methods=["POST"]),
    Route("/{anything}", _named("anything"), methods=["PUT"]),  # a later full match
]
PATHS = ["/items/new", "/items/7", "/plain", "/only-post", "/nowhere", "/plain/", "/items"]
METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD"]


def _client(router: Router) -> httpx.AsyncClient:
    app = Starlette()
    app.router = router
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_every_request_gets_the_answer_starlettes_router_gives() -> None:
    plain = _client(Router(ROUTES, redirect_slashes=False))
    exact = _client(ExactPathRouter(ROUTES, redirect_slashes=False))
    for method, path in itertools.product(METHODS, PATHS):
        want, got = await plain.request(method, path), await exact.request(method, path)
        assert (got.status_code, got.text, got.headers.get("allow")) == (
            want.status_code,
            want.text,
            want.headers.get("allow"),
        ), (method, path)
    # the cases that make the difference
    assert (await exact.get("/items/new")).text == "item {'item': 'new'}"  # earlier pattern wins
    assert (await exact.put("/only-post")).text == "anything {'anything': 'only-post'}"
    assert (await exact.get("/only-post")).status_code == 405


def test_only_paths_no_earlier_route_can_match_are_looked_up() -> None:
    router = ExactPathRouter(ROUTES)
    assert set(router.exact) == {"/plain", "/only-post"}
