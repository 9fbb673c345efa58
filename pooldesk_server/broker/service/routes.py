"""The broker layer's routes and their OpenAPI entries (and, with the http-auth back end, the
endpoints the broker itself calls)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from pooldesk.core import api_types as api
from pooldesk_server.broker.base import BrokerBackend
from pooldesk_server.broker.service.handlers import CredentialHandlers
from pooldesk_server.http.contract import BEARER, Operation
from pooldesk_server.http.routing import route

Routes = list[BaseRoute]
OpenApi = dict[tuple[str, str], Operation]


def credential_routes(
    handlers: CredentialHandlers, backend: BrokerBackend | None
) -> tuple[Routes, OpenApi]:
    routes: Routes = [
        route("/api/auth/mqtt-credentials", {"GET": handlers.session_credentials}),
        route("/api/devices/{device_id}/credentials", {"POST": handlers.device_credentials}),
    ]
    openapi: OpenApi = {
        ("/api/auth/mqtt-credentials", "GET"): Operation(
            "MQTT login of this session (asking again rotates its password)",
            api.MqttCredentials,
            errors=(503,),
            security=BEARER,
        ),
        ("/api/devices/{device_id}/credentials", "POST"): Operation(
            "Issue (or rotate) the device's MQTT login and API key (the owner, or an "
            "installer during their set-up grant)",
            api.DeviceCredentials,
            errors=(403, 404, 503),
            security=BEARER,
        ),
    }
    if backend is not None and backend.name == "http-auth":
        from pooldesk_server.broker.http_auth import HttpAuthBroker, http_auth_routes

        assert isinstance(backend, HttpAuthBroker)
        for auth_route in http_auth_routes(backend):
            routes.append(auth_route)
            for method in auth_route.methods or ():
                if method != "HEAD":
                    openapi[(auth_route.path, method)] = Operation(
                        "Broker asks: authentication / authorization (shared secret)", None
                    )
    return routes, openapi
