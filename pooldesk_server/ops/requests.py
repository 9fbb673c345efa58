"""The server's side of the operator commands: carry out `operator_requests` at once.

`pooldesk-backend users disable` and `sessions revoke` run in another process than `serve` (and
with several instances, on another machine): they change the database and add a request row in
the same transaction. Every running server polls the table (`POLL_EVERY_S`; the query hits an
index and finds nothing almost always), claims a request with a conditional UPDATE (one server
wins), and publishes the matching account event; the broker layer subscribed to it deletes the
MQTT logins at the broker, which cuts their live connections. A broker that is down leaves the
logins `pending_delete` for the broker layer's reconcile loop, as for any other account event.

A sweep (`SWEEP_EVERY_S`) also ends any login of a disabled account that is not yet
`pending_delete` (one issued by a request that passed its checks just before the disable).
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta

from sqlalchemy import delete, select, update

from pooldesk_server.accounts.events import AccountDisabled, SessionsEnded
from pooldesk_server.context import AppContext
from pooldesk_server.db import rows_changed
from pooldesk_server.db.models import MqttLogin, OperatorRequest, User
from pooldesk_server.db.types import utcnow
from pooldesk_server.devices.service import mark_mqtt_logins_pending_delete

log = logging.getLogger("pooldesk_server.ops.requests")

POLL_EVERY_S = 1.0
SWEEP_EVERY_S = 30.0
KEEP_DONE = timedelta(days=7)  # carried-out requests are kept this long, then deleted


async def carry_out_pending(ctx: AppContext) -> int:
    """Claim and carry out every waiting request; returns how many this server carried out."""
    async with ctx.db.read() as db:
        waiting = (
            await db.scalars(
                select(OperatorRequest)
                .where(OperatorRequest.done_at.is_(None))
                .order_by(OperatorRequest.id)
                .limit(100)
            )
        ).all()
    done = 0
    for request in waiting:
        async with ctx.db.write() as db:
            claimed = await db.execute(
                update(OperatorRequest)
                .where(OperatorRequest.id == request.id, OperatorRequest.done_at.is_(None))
                .values(done_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if rows_changed(claimed) != 1:
                continue  # another server took it
            detail = json.loads(request.detail or "{}")
            mqtt_users = set(detail.get("mqttUsers", ()))
            if request.action == "disable":
                # Logins issued since the command ran (a request already past its checks).
                late = await mark_mqtt_logins_pending_delete(
                    db,
                    MqttLogin.user_id == request.user_id,
                    MqttLogin.broker_state != "pending_delete",
                    select(User.disabled_at)
                    .where(User.id == request.user_id)
                    .scalar_subquery()
                    .is_not(None),
                )
                mqtt_users.update(late)
        done += 1
        session_ids = tuple(detail.get("sessionIds", ()))
        names = tuple(sorted(mqtt_users))
        log.info(
            "operator request %d: %s %s (%d session(s), %d MQTT login(s))",
            request.id,
            request.action,
            request.username,
            len(session_ids),
            len(names),
        )
        event: AccountDisabled | SessionsEnded
        if request.action == "disable":
            event = AccountDisabled(request.user_id, request.username, session_ids, names)
        else:
            event = SessionsEnded(
                request.user_id, request.username, session_ids, "operator_revoked", names
            )
        await ctx.events.publish(event)
    return done


async def forget_old_requests(ctx: AppContext) -> None:
    cutoff = utcnow() - KEEP_DONE
    old = OperatorRequest.done_at < cutoff
    async with ctx.db.read() as db:
        if await db.scalar(select(OperatorRequest.id).where(old).limit(1)) is None:
            return
    async with ctx.db.write() as db:
        await db.execute(delete(OperatorRequest).where(old))


async def sweep_disabled(ctx: AppContext) -> int:
    """End logins of disabled accounts that are not `pending_delete` yet; returns how many."""
    disabled_owner = MqttLogin.user_id.in_(select(User.id).where(User.disabled_at.is_not(None)))
    async with ctx.db.read() as db:
        found = (
            await db.execute(
                select(MqttLogin.mqtt_user, User.id, User.username)
                .join(User, User.id == MqttLogin.user_id)
                .where(disabled_owner, MqttLogin.broker_state != "pending_delete")
            )
        ).all()
    if not found:
        return 0
    async with ctx.db.write() as db:
        names = await mark_mqtt_logins_pending_delete(
            db, disabled_owner, MqttLogin.broker_state != "pending_delete"
        )
    by_user: dict[tuple[str, str], list[str]] = {}
    for name, user_id, username in found:
        if name in names:
            by_user.setdefault((user_id, username), []).append(name)
    for (user_id, username), logins in by_user.items():
        log.warning("ending %d MQTT login(s) of disabled account %s", len(logins), username)
        await ctx.events.publish(AccountDisabled(user_id, username, (), tuple(sorted(logins))))
    return len(names)


async def carry_out_forever(ctx: AppContext) -> None:
    """The server's loop (started in the app's lifespan)."""
    since_sweep = SWEEP_EVERY_S  # sweep once at start
    while True:
        try:
            await carry_out_pending(ctx)
            if since_sweep >= SWEEP_EVERY_S:
                since_sweep = 0.0
                await sweep_disabled(ctx)
                await forget_old_requests(ctx)
        except asyncio.CancelledError:
            raise
        except Exception:  # a database hiccup must not end the loop
            log.exception("operator requests: failed; retrying")
        await asyncio.sleep(POLL_EVERY_S)
        since_sweep += POLL_EVERY_S
