"""Hand-over as a backend extension: the HTTP routes (docs/backend.md, "Hand-over") and the
mover, which takes every `moving` transfer to its end over MQTT (docs/sharing.md).

The mover's state is the database: a `moving` transfer without a delivered binding gets a new
device login under the new owner's prefix (a `mqtt_logins` row of kind `transfer`), then its
binding goes out retained on the device's current `P/binding/set`; the device's answer on
`P/binding/state` completes or fails it. A device that is offline finds the retained binding when
it connects. After a restart the mover carries on from the table: a binding recorded as delivered
stays on the broker, and the device's `ok` (which it repeats on every connection) still counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import TYPE_CHECKING

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from pooldesk.core import api_types as api
from pooldesk_server.accounts.events import RightsChanged
from pooldesk_server.broker.base import BrokerError, BrokerLogin
from pooldesk_server.broker.logins import device_login, new_generation, new_password
from pooldesk_server.broker.rights import mover_rights
from pooldesk_server.broker.service.ledger import insert_pending_put, set_state
from pooldesk_server.context import AppContext, client_address, context_of
from pooldesk_server.db.models import MqttLogin, Transfer
from pooldesk_server.db.types import utcnow
from pooldesk_server.devices import service as devices
from pooldesk_server.devices.ids import normalize_device_id
from pooldesk_server.http.auth import require_user
from pooldesk_server.http.body import read_body
from pooldesk_server.http.contract import BEARER, Operation
from pooldesk_server.http.errors import ApiError, malformed_device_id
from pooldesk_server.http.responses import answer
from pooldesk_server.http.routing import route
from pooldesk_server.settings import Settings
from pooldesk_server.transfers import service
from pooldesk_server.transfers.transport import BindingChannel, binding_set

if TYPE_CHECKING:
    from pooldesk_server.broker.service.extension import BrokerExtension

log = logging.getLogger("pooldesk_server.transfers")

POLL_S = 2.0
RETRY_S = 5.0
# Logins a transfer keeps while no answer says which one the device took: each delivery whose
# acknowledgement came late leaves one the device may hold. Beyond this the oldest goes (after
# that many late acknowledgements in a row, rather than one new login every POLL_S for ever).
MAX_LOGINS = 4


class TransferExtension:
    name = "transfers"

    def __init__(self, settings: Settings, broker: BrokerExtension) -> None:
        self.settings = settings
        self.broker = broker  # the BrokerExtension: its back end, login rows and events
        self._ctx: AppContext | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._answers: asyncio.Queue[tuple[str, dict]] = asyncio.Queue()
        self.channel: BindingChannel | None = None
        self.routes: list[BaseRoute] = [
            route("/api/devices/{device_id}/transfer", {"POST": self.offer}),
            route("/api/transfers", {"GET": self.listing}),
            route("/api/transfers/{transfer_id}/accept", {"POST": self.accept}),
            route("/api/transfers/{transfer_id}", {"DELETE": self.cancel}),
        ]
        self.openapi: dict[tuple[str, str], Operation] = {
            ("/api/devices/{device_id}/transfer", "POST"): Operation(
                "Offer the device to another account (owner only; one open transfer per device)",
                api.TransferAnswer,
                status=201,
                body=api.TransferRequest,
                errors=(409,),
                security=BEARER,
            ),
            ("/api/transfers", "GET"): Operation(
                "Transfers the account gives and receives, newest first",
                api.Transfers,
                security=BEARER,
            ),
            ("/api/transfers/{transfer_id}/accept", "POST"): Operation(
                "Accept a transfer offered to you: the device moves to your account",
                api.TransferAnswer,
                status=202,
                errors=(409,),
                security=BEARER,
            ),
            ("/api/transfers/{transfer_id}", "DELETE"): Operation(
                "Cancel an open transfer (either side)",
                api.TransferAnswer,
                errors=(409,),
                security=BEARER,
            ),
        }

    # ---- routes ----

    async def offer(self, request: Request) -> Response:
        ctx = context_of(request)
        auth = await require_user(request)
        device_id = normalize_device_id(request.path_params["device_id"])
        if device_id is None:
            raise malformed_device_id()
        body = await read_body(request, api.TransferRequest, ctx.settings.max_body_bytes)
        async with ctx.db.write() as db:
            device = await devices.owned_device(db, auth.user.id, device_id)
            p = await service.offer(
                db, auth.user, device, body.username, body.history, client_address(request)
            )
            done = service.transfer_json(p)
        return answer(api.TransferAnswer(transfer=done), 201)

    async def listing(self, request: Request) -> Response:
        async with context_of(request).db.read() as db:
            auth = await require_user(request, db)
            outgoing, incoming = await service.listing(db, auth.user.id)
            return answer(
                api.Transfers(
                    outgoing=[service.transfer_json(p) for p in outgoing],
                    incoming=[service.transfer_json(p) for p in incoming],
                )
            )

    async def accept(self, request: Request) -> Response:
        ctx = context_of(request)
        auth = await require_user(request)
        async with ctx.db.write() as db:
            p = await service.party_transfer(db, request.path_params["transfer_id"], auth.user.id)
            await service.accept(db, p, auth.user, ctx.settings, client_address(request))
            done = service.transfer_json(p)
        self._wake.set()
        return answer(api.TransferAnswer(transfer=done), 202)

    async def cancel(self, request: Request) -> Response:
        ctx = context_of(request)
        auth = await require_user(request)
        async with ctx.db.write() as db:
            p = await service.party_transfer(db, request.path_params["transfer_id"], auth.user.id)
            await service.cancel(db, p, auth.user, client_address(request))
            done, old_prefix = service.transfer_json(p), p.old_prefix
            issued = p.transfer.new_login is not None  # its binding may be on the broker
        # Withdrawn before the answer (a device connecting next must not see it); the mover's
        # loop withdraws it otherwise, until it works.
        if issued and await self._withdraw(old_prefix):
            await self._withdrawn(p.transfer.id)
        self._wake.set()
        self.broker.reconcile_soon()  # an undelivered login goes now, not at the next reconcile
        return answer(api.TransferAnswer(transfer=done))

    # ---- lifespan ----

    async def start(self, ctx: AppContext) -> None:
        self._ctx = ctx
        if ctx.primary:  # other workers' requests write rows; this loop finds them (POLL_S)
            self._task = asyncio.create_task(self._run_forever(), name="transfers-mover")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self._close_channel()

    async def _close_channel(self) -> None:
        channel, self.channel = self.channel, None
        if channel is None:
            return
        with contextlib.suppress(Exception):
            await channel.close()
        with contextlib.suppress(Exception):
            await self.broker.backend.delete_login(channel.login.username)

    # ---- the mover ----

    async def _run_forever(self) -> None:
        while True:
            try:
                if await self._busy():
                    await self._connect()
                    await self._answer_all()
                    # Withdrawals first: a cancelled transfer's empty publish on the same
                    # binding/set would otherwise wipe a newer transfer's binding just delivered.
                    await self._tidy_cancelled()
                    await self._deliver_all()
                else:  # no service login at the broker while nothing is under way
                    await self._close_channel()
            except asyncio.CancelledError:
                raise
            except (BrokerError, ApiError) as error:  # ApiError: no broker configured
                log.warning("hand-overs wait for the broker: %s", error)
            except Exception:  # a database hiccup must not end the loop
                log.exception("hand-over loop failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_S)

    async def _busy(self) -> bool:
        """A transfer is moving, or was cancelled with a login the device may have taken (its
        binding is to be withdrawn, a late `ok` is to be heard)."""
        assert self._ctx is not None
        async with self._ctx.db.read() as db:
            found = await db.scalar(
                select(Transfer.id)
                .where(
                    (Transfer.status == "moving")
                    | ((Transfer.status == "cancelled") & Transfer.new_login.is_not(None))
                )
                .limit(1)
            )
        return found is not None

    async def _connect(self) -> None:
        if self.channel is not None and self.channel.connected:
            return
        await self._close_channel()
        backend = self.broker.backend
        name = f"svc-move-{secrets.token_hex(6)}"
        login = BrokerLogin(name, new_password(), name, mover_rights())
        channel = BindingChannel(backend.broker_url, backend.ca_cert_pem, login, self._heard)
        try:
            await backend.put_login(login)
            await channel.start()
        except BrokerError as error:
            with contextlib.suppress(Exception):
                await backend.delete_login(name)
            raise BrokerError(f"hand-over login not connected: {error}") from None
        self.channel = channel

    def _heard(self, prefix: str, body: dict) -> None:
        self._answers.put_nowait((prefix, body))
        self._wake.set()

    async def _deliver_all(self) -> None:
        assert self._ctx is not None
        async with self._ctx.db.read() as db:
            waiting = list(
                await db.scalars(
                    select(Transfer.id).where(
                        Transfer.status == "moving", Transfer.delivered_at.is_(None)
                    )
                )
            )
        for transfer_id in waiting:
            await self._deliver(transfer_id)

    async def _tidy_cancelled(self) -> None:
        """Withdraw the bindings of cancelled transfers with a login issued (its binding may be
        on the broker), then retire the logins their devices did not take."""
        ctx = self._ctx
        assert ctx is not None
        assert self.channel is not None
        async with ctx.db.read() as db:
            rows = await db.scalars(
                select(Transfer).where(
                    Transfer.status == "cancelled",
                    Transfer.new_login.is_not(None),
                    Transfer.withdrawn_at.is_(None),
                )
            )
            owed = [(t.id, (await service.parties(db, t)).old_prefix) for t in rows.all()]
        for transfer_id, prefix in owed:
            await self.channel.publish(prefix, b"")  # BrokerError: next time
            await self._withdrawn(transfer_id)
        async with ctx.db.write() as db:
            cancelled = await db.scalars(
                select(Transfer).where(
                    Transfer.status == "cancelled", Transfer.new_login.is_not(None)
                )
            )
            retired = [
                name for t in cancelled.all() for name in await service.retire_if_stayed(db, t)
            ]
        if retired:
            self.broker.reconcile_soon()

    async def _withdrawn(self, transfer_id: str) -> None:
        """The broker acknowledged the withdrawal of a cancelled transfer's binding: from now on
        a device heard on its old prefix kept its old login."""
        assert self._ctx is not None
        async with self._ctx.db.write() as db:
            t = await db.get(Transfer, transfer_id)
            if t is not None and t.status == "cancelled" and t.withdrawn_at is None:
                t.withdrawn_at = utcnow()

    async def _deliver(self, transfer_id: str) -> None:
        """Issue the device login under the new owner's prefix, then publish the binding."""
        ctx, channel = self._ctx, self.channel
        assert ctx is not None
        assert channel is not None
        async with ctx.db.write() as db:
            t = await db.get(Transfer, transfer_id)
            if t is None or t.status != "moving" or t.delivered_at is not None:
                return
            p = await service.parties(db, t)
            # Earlier logins stay (a delivery acknowledged late, or not at all before a restart,
            # may have reached the device) until an answer names the one taken; but not forever.
            kept = await service.live_logins(db, t)
            surplus = await service.retire_logins(db, t, kept[: max(0, len(kept) + 1 - MAX_LOGINS)])
        if surplus:
            log.warning("transfer %s: %d undelivered logins retired", transfer_id, len(surplus))
            self.broker.reconcile_soon()
        login = device_login(p.new.username, p.device.device_id, generation=new_generation())
        await insert_pending_put(
            ctx, login, "transfer", user_id=p.new.id, session_id=None, device_pk=p.device.id
        )
        try:
            await self.broker.backend.put_login(login)
        except BrokerError as error:
            await set_state(ctx, login.username, "pending_delete")
            log.warning("transfer %s: new device login not issued yet: %s", transfer_id, error)
            return
        async with ctx.db.write() as db:
            t = await db.get(Transfer, transfer_id)
            still = t is not None and t.status == "moving"
            row = await db.scalar(select(MqttLogin).where(MqttLogin.mqtt_user == login.username))
            if row is not None:
                row.broker_state = "synced" if still else "pending_delete"
            if t is not None and still:
                t.new_login = login.username
        if not still:
            return
        payload = binding_set(transfer_id, login, p.new_prefix)
        try:
            await channel.publish(p.old_prefix, payload)
            published = True
        except BrokerError as error:  # it may still reach the broker (an acknowledgement late)
            log.warning("transfer %s: binding not delivered yet: %s", transfer_id, error)
            published = False
        async with ctx.db.write() as db:
            t = await db.get(Transfer, transfer_id)
            cancelled = t is not None and t.status == "cancelled"
            if published and t is not None and t.new_login == login.username and not cancelled:
                t.delivered_at = utcnow()
        if cancelled:
            await self._withdraw_again(transfer_id, p.old_prefix)
        elif published:
            log.info("transfer %s: new binding waiting on %s", transfer_id, p.old_prefix)

    async def _withdraw_again(self, transfer_id: str, prefix: str) -> None:
        """The transfer was cancelled while its binding was being published: the cancel's
        withdrawal may have reached the broker first, leaving this binding retained. Withdraw it
        again, and count "heard after the withdrawal" from now; if the broker cannot be reached,
        the mover's loop withdraws it (withdrawn_at cleared, so its logins stay until then)."""
        assert self._ctx is not None
        done = await self._withdraw(prefix)
        async with self._ctx.db.write() as db:
            t = await db.get(Transfer, transfer_id)
            if t is not None and t.status == "cancelled":
                t.withdrawn_at = utcnow() if done else None

    async def _answer_all(self) -> None:
        while not self._answers.empty():
            prefix, body = self._answers.get_nowait()
            await self._answer(prefix, body)

    async def _answer(self, prefix: str, body: dict) -> None:
        """The device's answer on `prefix`/binding/state. Only the device's own login may publish
        there, so the prefix says who answers: `ok` counts on the new prefix, `failed` on the
        old one. `ok` names the login the device took (`mqtt_user`; firmware from before leaves
        it out: the newest login issued then)."""
        ctx = self._ctx
        assert ctx is not None
        tid, result = body.get("transfer_id"), body.get("result")
        if not isinstance(tid, str) or result not in ("ok", "failed"):
            return
        async with ctx.db.write() as db:
            t = await db.get(Transfer, tid[:64])
            if t is None or t.status not in ("moving", "cancelled") or t.new_login is None:
                return
            p = await service.parties(db, t)
            taken = body.get("mqtt_user", t.new_login)
            if result == "ok" and prefix == p.new_prefix:
                if taken not in await service.live_logins(db, t):
                    log.warning("transfer %s: ok names a login not issued for it", tid)
                    return
                event, members = await service.complete(db, p, taken)
            elif result == "failed" and prefix == p.old_prefix and t.status == "moving":
                reason = body.get("reason")
                await service.fail(db, p, reason if isinstance(reason, str) else "failed")
                event, members = None, []
            elif result == "failed" and prefix == p.old_prefix:  # cancelled: none was taken
                await service.retire_new_login(db, t)
                event, members = None, []
            else:
                return
        await self._withdraw(p.old_prefix)
        if event is not None:
            log.info("transfer %s: done, %s moved to %s", tid, p.device.device_id, p.new.username)
            await ctx.events.publish(event)  # old logins go, old prefix's retained cleared
            if members:  # their shares of this device ended: their dashboard logins lose it
                await ctx.events.publish(RightsChanged(tuple(members)))
        else:
            log.info("transfer %s: %s (%s), its logins retired", tid, t.status, t.reason)
            self.broker.reconcile_soon()

    async def _withdraw(self, prefix: str) -> bool:
        """Clear the retained P/binding/set (it holds a device password); True once the broker
        acknowledged it."""
        channel = self.channel
        if channel is None:
            return False
        try:
            await channel.publish(prefix, b"")
        except BrokerError as error:
            log.warning("retained binding on %s not cleared: %s", prefix, error)
            return False
        return True
