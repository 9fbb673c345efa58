"""The HTTP handlers: a signed-in app's MQTT login, a device's MQTT login and API key."""

from __future__ import annotations

import ipaddress

from starlette.requests import Request
from starlette.responses import Response

from pooldesk.core import api_types as api
from pooldesk_server.broker.logins import dashboard_login, device_login, new_generation
from pooldesk_server.broker.managed import ManagedMosquitto
from pooldesk_server.broker.rights import user_prefix
from pooldesk_server.broker.service.issuing import Issuer
from pooldesk_server.broker.service.state import BrokerState
from pooldesk_server.context import client_address, context_of
from pooldesk_server.devices.ids import normalize_device_id
from pooldesk_server.http.auth import require_user
from pooldesk_server.http.errors import ApiError, malformed_device_id
from pooldesk_server.http.responses import answer
from pooldesk_server.sharing import service as sharing


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:127.0.0.1 from a dual-stack socket
    return (mapped or ip).is_loopback


class CredentialHandlers:
    def __init__(self, state: BrokerState, issuer: Issuer) -> None:
        self.state = state
        self.issuer = issuer

    def dashboard_broker(self, request: Request) -> tuple[str, str | None]:
        """(URL, CA PEM or None) a dashboard can reach from where its request came from.

        `POOLDESK_MQTT_PUBLIC_URL` (e.g. `wss://pool.example/mqtt` through a reverse proxy) wins;
        a back end other than the managed one has one URL for everybody (`MQTT_BROKER_URL`); the
        managed broker's loopback listener is only for an app on this machine, others get the
        TLS LAN listener with its private CA. Without one, a 503 says what the operator must set.
        """
        backend = self.state.ready_backend()
        public = self.state.settings.broker_env.get("POOLDESK_MQTT_PUBLIC_URL", "").strip()
        lan_url = getattr(backend, "lan_url", None)
        if public:
            if self.state.public_ca is not None:
                return public, self.state.public_ca
            return public, backend.ca_cert_pem if public == lan_url else None
        if not isinstance(backend, ManagedMosquitto):
            return backend.broker_url, backend.ca_cert_pem
        if _is_loopback(client_address(request)):
            return backend.broker_url, None
        if lan_url:
            return lan_url, backend.ca_cert_pem
        raise ApiError(
            503,
            "broker_unavailable",
            "The MQTT broker only listens on the server's own loopback address, which this "
            "computer cannot reach: the server's operator must set POOLDESK_MQTT_LAN_HOST (a TLS "
            "listener for the home network) or POOLDESK_MQTT_PUBLIC_URL (see docs/mqtt.md)",
        )

    async def session_credentials(self, request: Request) -> Response:
        auth = await require_user(request)
        broker_url, ca_pem = self.dashboard_broker(request)  # before anything is issued
        login = dashboard_login(auth.user.username, auth.session_id, generation=new_generation())
        await self.issuer.issue(
            request,
            login,
            kind="session",
            user_id=auth.user.id,
            session_id=auth.session_id,
            device_pk=None,
        )
        return answer(
            api.MqttCredentials(
                mqtt_user=login.username,
                mqtt_password=login.password,
                client_id=login.client_id,
                topic_prefix=user_prefix(auth.user.username),
                broker_url=broker_url,
                ca_cert=ca_pem,
            )
        )

    async def device_credentials(self, request: Request) -> Response:
        ctx = context_of(request)
        device_id = normalize_device_id(request.path_params["device_id"])
        if device_id is None:
            raise malformed_device_id()
        async with ctx.db.read() as db:
            auth = await require_user(request, db)
            # The owner, or an installer during their set-up grant (docs/sharing.md): the login
            # is the owner's device login either way.
            found = await sharing.access(db, auth.user.id, device_id, ("owner", "installer"))
            device = found.device
        backend = self.state.ready_backend()
        login = device_login(found.owner, device.device_id, generation=new_generation())
        api_key = await self.issuer.issue(
            request,
            login,
            kind="device",
            user_id=device.user_id,
            session_id=None,
            device_pk=device.id,
            device=device,
        )
        lan_url = getattr(backend, "lan_url", None)
        return answer(
            api.DeviceCredentials(
                mqtt_user=login.username,
                mqtt_password=login.password,
                client_id=login.client_id,
                topic_prefix=device.topic_prefix,
                broker_url=lan_url or backend.broker_url,
                ca_cert=backend.ca_cert_pem,
                api_key=api_key,
            )
        )
