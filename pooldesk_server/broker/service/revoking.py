"""Deleting a login: at the broker first, then its row (only if it still says `pending_delete`).

Deleting a device's last login cuts the device without its will, so it is then said `offline`.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, exists, select, update

from pooldesk_contract.topics import STATUS
from pooldesk_server.broker.base import BrokerError
from pooldesk_server.broker.retained import publish_retained
from pooldesk_server.broker.service.ledger import stale_session_login
from pooldesk_server.broker.service.state import BrokerState
from pooldesk_server.context import AppContext
from pooldesk_server.db.models import Device, MqttLogin
from pooldesk_server.db.types import utcnow
from pooldesk_server.http.errors import ApiError

log = logging.getLogger("pooldesk_server.broker")


def _has_a_login(device_pk: str) -> Any:
    """SQL: the device has a login it can connect with (or is being given one)."""
    return exists().where(
        MqttLogin.device_id == device_pk,
        MqttLogin.broker_state.in_(("synced", "pending_put")),
    )


class Revoker:
    def __init__(self, state: BrokerState) -> None:
        self.state = state

    async def delete_now(self, ctx: AppContext, mqtt_user: str) -> bool:
        """Delete at the broker, then the row, if the row still says `pending_delete`. False
        (row stays pending_delete) if the broker could not be reached."""
        async with self.state.locks.hold(mqtt_user):
            return await self.delete_locked(ctx, mqtt_user)

    async def delete_locked(self, ctx: AppContext, mqtt_user: str) -> bool:
        """`delete_now` for a caller already holding the login's lock."""
        async with ctx.db.read() as db:
            row = (
                await db.execute(
                    select(MqttLogin.broker_state, MqttLogin.kind, MqttLogin.device_id).where(
                        MqttLogin.mqtt_user == mqtt_user
                    )
                )
            ).first()
        if row is None or row.broker_state != "pending_delete":  # gone, or not to be deleted
            return True
        try:
            await self.state.ready_backend().delete_login(mqtt_user)
        except (BrokerError, ApiError) as error:
            log.warning("MQTT login %s stays pending deletion: %s", mqtt_user, error)
            return False
        async with ctx.db.write() as db:
            await db.execute(
                delete(MqttLogin)
                .where(MqttLogin.mqtt_user == mqtt_user)
                .where(MqttLogin.broker_state == "pending_delete")
            )
        if row.kind == "device" and row.device_id is not None:
            await self._device_cut_off(ctx, row.device_id)
        return True

    async def _device_cut_off(self, ctx: AppContext, device_pk: str) -> None:
        """A device's login was deleted, which cut its connection without its will (Mosquitto
        sends no will for a deleted client): say `offline` for it, in the database and as its
        retained `status` — only when the device has no login left to connect with. A device
        that still has one (its old login retired after it logged in with the new one, a
        hand-over) was not cut off by this deletion, and an `offline` said for it could land
        after the `online` it published with that login and show a working device offline.

        The retained `offline` is published in the background, and only if, just before, the
        device still has no login and its row still says `offline` with the same prefix: a
        login issued meanwhile (the device added again) means it may be online already."""
        async with ctx.db.write() as db:
            changed = await db.execute(
                update(Device)
                .where(Device.id == device_pk, Device.status != "offline")
                .where(~_has_a_login(device_pk))
                .values(status="offline")
                .returning(Device.topic_prefix)
            )
            prefixes = list(changed.scalars())
        backend = self.state.backend
        if (
            not prefixes
            or backend is None
            or self.state.start_error
            or backend.name == "hivemq-cloud"
        ):
            return  # (a new HiveMQ Cloud login takes up to a minute to work: no use there)
        prefix = prefixes[0]

        async def say_offline() -> None:
            async with ctx.db.read() as db:
                still = await db.scalar(
                    select(Device.id).where(
                        Device.id == device_pk,
                        Device.status == "offline",
                        Device.topic_prefix == prefix,
                        ~_has_a_login(device_pk),
                    )
                )
            if still is None:
                return
            try:
                await publish_retained(
                    backend, {STATUS.under(prefix): b"offline"}, strays=self.state.strays
                )
            except BrokerError as error:
                log.warning("could not publish offline for %s: %s", prefix, error)

        self.state.spawn(say_offline(), "broker-device-offline")

    async def end_stale_session_login(self, ctx: AppContext, mqtt_user: str) -> bool:
        """Under the lock: mark a session login whose session is gone, revoked or expired
        `pending_delete` (a `pending_put` one under the lock is a crashed issue), then delete it."""
        async with self.state.locks.hold(mqtt_user):
            async with ctx.db.write() as db:
                await db.execute(
                    update(MqttLogin)
                    .where(MqttLogin.mqtt_user == mqtt_user)
                    .where(stale_session_login(utcnow()))
                    .values(broker_state="pending_delete")
                    .execution_options(synchronize_session=False)
                )
            return await self.delete_locked(ctx, mqtt_user)
