"""Optional parts that plug into the app: extra routes, OpenAPI entries, start/stop hooks.

The MQTT broker layer (`pooldesk_server/broker/service/`) is one: it keeps the core of the
service
free of broker code, and lets tests build the app with or without a broker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from starlette.routing import BaseRoute

from pooldesk_server.context import AppContext
from pooldesk_server.http.contract import Operation
from pooldesk_server.settings import Settings


class Extension(Protocol):
    # Read-only to the app: an extension may hold them in any (mutable) container.
    @property
    def name(self) -> str: ...

    @property
    def routes(self) -> Sequence[BaseRoute]: ...

    @property
    def openapi(self) -> Mapping[tuple[str, str], Operation]:
        """(path, METHOD) -> its operation (types and summary), one per route method."""
        ...

    async def start(self, ctx: AppContext) -> None:
        """Called in the app's lifespan after migrations; may subscribe to ctx.events."""

    async def stop(self) -> None:
        """Called when the app shuts down."""


def installed_extensions(settings: Settings) -> list[Extension]:
    """The extensions `serve` runs: the MQTT broker layer, and firmware updates and hand-overs
    over it."""
    from pooldesk_server.broker.service.extension import create_extension
    from pooldesk_server.firmware.extension import FirmwareExtension
    from pooldesk_server.transfers.extension import TransferExtension

    broker = create_extension(settings)
    return [broker, FirmwareExtension(settings, broker), TransferExtension(settings, broker)]
