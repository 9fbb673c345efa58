"""Deleting a login: at the broker first, then its row (only if it still says `pending_delete`).

A deleted device login cuts the device without its will, so the device is then said `offline`.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, func, or_, select, update

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
        retained `status` — unless the device has been heard from since its newest login was
        issued (it is connected with that one)."""
        async with ctx.db.write() as db:
            newest = await db.scalar(
                select(func.max(MqttLogin.created_at)).where(
                    MqttLogin.device_id == device_pk, MqttLogin.broker_state == "synced"
                )
            )
            quiet = or_(Device.last_seen.is_(None), Device.last_seen <= newest)
            changed = await db.execute(
                update(Device)
                .where(Device.id == device_pk, Device.status != "offline")
                .where(quiet if newest is not None else Device.id.is_not(None))
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

        async def say_offline() -> None:
            try:
                await publish_retained(
                    backend, {STATUS.under(prefixes[0]): b"offline"}, strays=self.state.strays
                )
            except BrokerError as error:
                log.warning("could not publish offline for %s: %s", prefixes[0], error)

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
