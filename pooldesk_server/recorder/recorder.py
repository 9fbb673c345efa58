"""The recorder: a shared MQTT subscription over every device, written to the database in batches.

Acknowledgements are manual: a message's PUBACK goes to the broker only after the batch holding
it is committed, so a recorder (or database) failure makes the broker deliver it again instead of
losing it. Its session is persistent (clean start off, one day of expiry), so messages published
while it is away — a broker restart, a recorder restart — wait for it. Several backend instances
share the load through the `$share/recorder/...` subscription.

No device message may stop it: a payload `interpret` cannot handle is logged and acknowledged
without being stored, a row the database refuses while the database itself answers is dropped
(logged, acknowledged) instead of being retried forever, and paho is told to survive an exception
in a callback (`suppress_exceptions`). paho runs on the event loop (`broker.paho_loop`), no thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Table, select, text, update

from pooldesk_server.broker.base import BrokerLogin
from pooldesk_server.broker.paho_loop import PahoOnLoop
from pooldesk_server.broker.rights import RECORDER_SUBSCRIPTION
from pooldesk_server.db.engine import Database
from pooldesk_server.db.models import Device, Event, User
from pooldesk_server.db.types import utcnow
from pooldesk_server.devices.ids import topic_prefix
from pooldesk_server.recorder.messages import DeviceMessage, interpret, stored_text

log = logging.getLogger("pooldesk_server.recorder")

SESSION_EXPIRY_S = 24 * 3600
RECONNECT_S = (0.1, 5.0)  # first and longest wait between connection attempts
LOGIN_REFUSED = {0x86, 0x87}  # bad user name or password, not authorized


@dataclass
class _Pending:
    message: DeviceMessage | None
    mid: int
    qos: int
    received_at: datetime
    session: int  # the broker session it came in (Recorder._session)


def _fingerprint(msg: mqtt.MQTTMessage) -> bytes:
    """Topic and payload, hashed: a packet id alone may name another message by then."""
    digest = hashlib.blake2b(msg.topic.encode(errors="replace"), digest_size=16)
    digest.update(b"\0")
    digest.update(bytes(msg.payload))
    return digest.digest()


class Recorder:
    def __init__(
        self,
        db: Database,
        host: str,
        port: int,
        login: BrokerLogin,
        *,
        batch_size: int = 1000,
        batch_wait_s: float = 0.05,
        on_refused: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.db, self.host, self.port, self.login = db, host, port, login
        # Called (at most one at a time) when the broker refuses the recorder's login, e.g. to put
        # the login back after someone replaced or deleted it; the connection then retries itself.
        self._on_refused = on_refused
        self._reput: asyncio.Task[None] | None = None
        self.batch_size, self.batch_wait_s = batch_size, batch_wait_s
        self.stored = 0  # messages committed so far
        # Filled by paho's callbacks, emptied by the writer; the loop is woken only when the inbox
        # goes from empty to not empty (one wake-up per batch, not one per message).
        self._inbox: list[_Pending] = []
        self._inbox_lock = threading.Lock()
        self._arrived = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._devices: dict[tuple[str, str], str | None] = {}
        # A lost connection makes the broker send again (DUP, same packet id) every QoS 1
        # message not acknowledged yet; the session outlives the connection. Not stored twice:
        # packet id -> fingerprint of the message it named (an id is reused for new messages).
        self._held: dict[int, bytes] = {}  # received and not acknowledged (waiting or storing)
        self._owed: dict[int, bytes] = {}  # stored, acknowledged while disconnected: ack lost
        # Counts the broker sessions: a message is acknowledged only in the session that sent
        # it (in a new one its packet id may name another message, not stored yet).
        self._session = 0
        self.copies_ignored = 0  # messages sent again that were already held or stored
        self._stopping = False
        self._driver: PahoOnLoop | None = None
        self._client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=login.client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        self._client.username_pw_set(login.username, login.password)
        self._client.max_inflight_messages_set(1000)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.on_disconnect = self._on_disconnect
        self._client.suppress_exceptions = True  # a bug in a callback must not stop the reading
        self.dropped = 0  # messages acknowledged without being stored (unusable payloads)

    # ---- paho callbacks -------------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("recorder login refused by the broker: %s", reason)
            if self._on_refused is not None and reason.value in LOGIN_REFUSED:
                self._call(self._put_login_back)
            return
        if not flags.session_present:  # a new session: nothing will be sent again
            self._session += 1
            self._held.clear()
            self._owed.clear()
        client.subscribe(RECORDER_SUBSCRIPTION, qos=1)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list, _p: Any) -> None:
        if reasons and not reasons[0].is_failure:
            self._call(self._subscribed.set)
        else:
            log.error("recorder may not subscribe to %s: %s", RECORDER_SUBSCRIPTION, reasons)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._call(self._subscribed.clear)
        if not self._stopping:
            log.warning("recorder disconnected from the broker (%s); reconnecting", reason)

    def _on_message(self, client: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.qos == 1:
            mark = _fingerprint(msg)
            if msg.dup and self._held.get(msg.mid) == mark:
                self.copies_ignored += 1  # the copy held is acknowledged for both
                return
            if msg.dup and self._owed.get(msg.mid) == mark:
                del self._owed[msg.mid]  # stored already: only its acknowledgement was lost
                self.copies_ignored += 1
                client.ack(msg.mid, msg.qos)
                return
            self._owed.pop(msg.mid, None)  # a new message under a packet id used before
            self._held[msg.mid] = mark
        try:
            message = interpret(msg.topic, bytes(msg.payload))
        except Exception:  # never expected; acknowledged so it cannot come back forever
            log.exception("recorder dropped an unreadable message on %r", msg.topic[:200])
            message = None
        pending = _Pending(message, msg.mid, msg.qos, utcnow(), self._session)
        with self._inbox_lock:
            self._inbox.append(pending)
            first = len(self._inbox) == 1
        if first:
            self._call(self._arrived.set)

    def _put_login_back(self) -> None:
        if self._stopping or self._on_refused is None:
            return
        if self._reput is None or self._reput.done():
            self._reput = asyncio.create_task(self._run_reput(), name="recorder-reput")

    async def _run_reput(self) -> None:
        assert self._on_refused is not None
        try:
            await self._on_refused()
            log.warning("recorder login %s put back at the broker", self.login.username)
        except Exception as error:  # noqa: BLE001 - the broker is down too: the next refusal tries again
            log.error("recorder login %s could not be put back: %s", self.login.username, error)

    @property
    def connected(self) -> bool:
        """Connected and subscribed (what /healthz reports)."""
        return self._subscribed.is_set()

    def _call(self, fn: Any, *args: Any) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(fn, *args)

    # ---- asyncio side -------------------------------------------------------------------------

    async def start(self, within: float = 10.0) -> None:
        self._loop = asyncio.get_running_loop()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        self._driver = PahoOnLoop(self._client, reconnect=RECONNECT_S)
        self._driver.start(self.host, self.port, keepalive=30, clean_start=False, properties=props)
        self._task = asyncio.create_task(self._write_forever(), name="recorder-writer")
        await asyncio.wait_for(self._subscribed.wait(), within)

    async def stop(self) -> None:
        self._stopping = True
        # Not recording from here on, whether or not paho reports the disconnect (/healthz).
        self._subscribed.clear()
        if self._driver is not None:
            await self._driver.close()
        if self._reput is not None:
            self._reput.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reput
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _write_forever(self) -> None:
        while True:
            await self._arrived.wait()
            # Cleared before taking: a message that arrives after the inbox was emptied sets it
            # again (a stale wake-up only finds an empty inbox).
            self._arrived.clear()
            if len(self._inbox) < self.batch_size:
                await asyncio.sleep(self.batch_wait_s)  # let a batch gather
            while batch := self._take():
                await self._store_or_drop(batch)
                self._acknowledge(batch)
                self.stored += len(batch)

    def _acknowledge(self, batch: list[_Pending]) -> None:
        """Acknowledge a stored batch. While disconnected (paho would drop the
        acknowledgements) they are owed instead: the broker sends the messages again, and they
        are acknowledged then without being stored twice."""
        client = self._client
        # Not while connecting either: paho would queue the acknowledgement ahead of CONNECT
        # (a protocol error, the broker drops the connection); the broker sends it again.
        connected = client.is_connected()
        for item in batch:
            if item.session != self._session:
                continue  # its session is gone: the broker will not send it again
            if connected:
                client.ack(item.mid, item.qos)
            if item.qos == 1:
                mark = self._held.pop(item.mid, None)
                if not connected and mark is not None:
                    self._owed[item.mid] = mark

    def _take(self) -> list[_Pending]:
        with self._inbox_lock:
            batch = self._inbox[: self.batch_size]
            del self._inbox[: self.batch_size]
        return batch

    async def _store_or_drop(self, batch: list[_Pending]) -> None:
        """Store the batch; retry while the database is unreachable (nothing is acknowledged, the
        broker keeps the messages). If the database answers but refuses the batch, store its
        messages one by one and drop (log) those it refuses on their own."""
        refusals = 0
        while True:
            try:
                await self._store(batch)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                # A device removed meanwhile fails its foreign key: look devices up again.
                log.exception("recorder could not store %d message(s)", len(batch))
                self.forget_devices()
            if await self._database_answers():
                refusals += 1
                if refusals >= 2:  # not (only) a stale device: find the refused rows one by one
                    break
                continue  # once more as a whole, with the devices looked up again
            await asyncio.sleep(0.5)
        for item in batch:
            refusals = 0
            while True:
                try:
                    await self._store([item])
                    break
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - the database may be down: checked next
                    self.forget_devices()  # the retry looks its device up again
                    if await self._database_answers():
                        refusals += 1
                    if refusals >= 2:  # refused twice while the database answers: poison
                        m = item.message
                        where = f"{m.device_id} {m.event_type}" if m else "?"
                        log.error("recorder dropped a message the database refused (%s)", where)
                        item.message = None
                        self.dropped += 1
                        break
                    await asyncio.sleep(0.5)

    async def _database_answers(self) -> bool:
        try:
            async with self.db.read() as db:
                await db.execute(text("SELECT 1"))
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - any failure means the database does not answer
            return False
        return True

    async def _device_pks(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
        missing = [k for k in keys if k not in self._devices]
        if missing:
            async with self.db.read() as db:
                rows = (
                    await db.execute(
                        select(User.username, Device.device_id, Device.id)
                        .join(User, User.id == Device.user_id)
                        .where(Device.device_id.in_({d for _, d in missing}))
                    )
                ).all()
            found = {(u, d): pk for u, d, pk in rows}
            for key in missing:
                self._devices[key] = found.get(key)
        return {k: self._devices[k] for k in keys}

    def backlog(self) -> tuple[int, float]:
        """Messages received and not yet taken for storing, and the age in seconds of the
        oldest of them (read by /metrics)."""
        with self._inbox_lock:
            waiting = len(self._inbox)
            oldest = self._inbox[0].received_at if self._inbox else None
        return waiting, (utcnow() - oldest).total_seconds() if oldest is not None else 0.0

    def forget_devices(self) -> None:
        """Drop the device cache (after devices were added, removed or moved)."""
        self._devices.clear()

    async def _store(self, batch: Sequence[_Pending]) -> None:
        messages = [p for p in batch if p.message is not None]
        if not messages:
            return
        keys = {(p.message.username, p.message.device_id) for p in messages}  # type: ignore[union-attr]
        pks = await self._device_pks(keys)
        if None in pks.values():  # a device we do not know (yet): look again next time
            for key, pk in pks.items():
                if pk is None:
                    self._devices.pop(key, None)
        rows: list[dict[str, Any]] = []
        # (device, the prefix it spoke on) -> when last heard, the last status it said there
        seen: dict[tuple[str, str], tuple[datetime, str | None]] = {}
        for p in messages:
            m = p.message
            assert m is not None
            pk = pks.get((m.username, m.device_id))
            if pk is None:
                continue
            rows.append(
                {
                    "device_pk": pk,
                    "type": m.event_type,
                    "ts": m.ts or p.received_at,
                    "received_at": p.received_at,
                    "data": stored_text(m),
                }
            )
            where = (pk, topic_prefix(m.username, m.device_id))
            last = seen.get(where, (p.received_at, None))
            seen[where] = (p.received_at, m.status or last[1])
        if not rows:
            return
        async with self.db.write() as db:
            # Core executemany: no ORM bulk-insert bookkeeping per row.
            table = cast(Table, Event.__table__)  # a mapped class's table is a Table
            await (await db.connection()).execute(table.insert(), rows)
            for (pk, prefix), (at, status) in seen.items():
                values: dict[str, Any] = {}
                if status is not None:
                    values["status"] = status
                if status != "offline":
                    values["last_seen"] = at
                if values:
                    # Only what the device says on its current prefix: after a hand-over, a
                    # late `offline` (its will, a retained one) on the old prefix is history,
                    # not the state of the device on its new one.
                    await db.execute(
                        update(Device)
                        .where(Device.id == pk, Device.topic_prefix == prefix)
                        .values(**values)
                    )
