"""Unusual activity per account: failed sign-ins and refused MQTT logins.

Sources, and what is not available:
- failed sign-ins: the audit log (`login`/`failure`, also attempts on a disabled account);
  sign-ins refused by the throttle (429) are not audited (that would let an attacker fill the
  log), so they are counted only by `/metrics` (`pooldesk_sign_ins_total{outcome="throttled"}`);
- refused MQTT logins: the managed Mosquitto's log (`<data>/broker/mosquitto.log`). Mosquitto
  names neither the client id nor the user name of a refused login ("Client <unknown>
  disconnected, not authorised."), only the address of the connection before it, so refusals
  are counted per address, not per account; with an external broker the broker's own log has
  them, PoolDesk does not see them;
- ACL denials: Mosquitto writes them only at its debug log level, which the managed broker
  does not use (it would log every message): not available.

While serving, `watch_bursts` logs a warning naming the account when its failed sign-ins in
`BURST_WINDOW_S` reach `BURST_MIN`, and one naming the address when refused MQTT logins from it
do (once per account or address and window).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from pooldesk_server.db.engine import Database
from pooldesk_server.db.models import AuditEntry, User
from pooldesk_server.db.types import utcnow

log = logging.getLogger("backend.activity")

BURST_WINDOW_S = 300.0
BURST_MIN = 5
WATCH_EVERY_S = 30.0
UNKNOWN_ACCOUNT = "(no such account)"
# Mosquitto's notice lines after its "<unix time>: " stamp.
_OPENED = re.compile(r"New connection from (\S+) on port \d+\.")
_ACCEPTED = re.compile(r"New client connected from (\S+) as ")
_REFUSED = re.compile(r"Client \S+ disconnected, not authori[sz]ed\.")


@dataclass
class Activity:
    failed_sign_ins: Counter[str]  # per account name (UNKNOWN_ACCOUNT for names that do not exist)
    refused_mqtt: Counter[str]  # per client address


async def failed_sign_ins(database: Database, since: datetime) -> Counter[str]:
    """Failed sign-ins per account name since then (unknown names under UNKNOWN_ACCOUNT)."""
    query = (
        select(User.username, func.count())
        .select_from(AuditEntry)
        .outerjoin(User, User.id == AuditEntry.user_id)
        .where(
            AuditEntry.event == "login",
            AuditEntry.outcome == "failure",
            AuditEntry.at >= since,
        )
        .group_by(User.username)
    )
    async with database.read() as db:
        rows = (await db.execute(query)).all()
    return Counter({(name or UNKNOWN_ACCOUNT): int(n) for name, n in rows})


def refused_mqtt_logins(broker_log: Path, since: datetime) -> Counter[str]:
    """Refused MQTT logins per client address in the managed broker's log since then.

    A refusal line names no address; it is the last connection opened that had not been
    accepted yet (Mosquitto handles one connection's CONNECT at a time)."""
    cutoff = since.timestamp()
    counts: Counter[str] = Counter()
    opened: list[str] = []
    try:
        with broker_log.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                stamp, _, message = line.partition(": ")
                if not stamp.isdigit():
                    continue
                if (found := _OPENED.match(message)) is not None:
                    opened.append(found.group(1))
                    del opened[:-64]
                elif (found := _ACCEPTED.match(message)) is not None:
                    if found.group(1) in opened:
                        opened.remove(found.group(1))
                elif _REFUSED.match(message) and int(stamp) >= cutoff:
                    where = opened.pop() if opened else "unknown address:0"
                    counts[where.rsplit(":", 1)[0]] += 1
    except FileNotFoundError:
        pass
    return counts


async def unusual_activity(
    database: Database, broker_log: Path | None, *, hours: float, minimum: int = 1
) -> Activity:
    since = utcnow() - timedelta(hours=hours)
    failed = await failed_sign_ins(database, since)
    refused = refused_mqtt_logins(broker_log, since) if broker_log is not None else Counter()
    return Activity(
        Counter({k: n for k, n in failed.items() if n >= minimum}),
        Counter({k: n for k, n in refused.items() if n >= minimum}),
    )


async def check_bursts(
    database: Database,
    warned: dict[str, float],
    on_burst: Callable[[str, int], None] | None = None,
    broker_log: Path | None = None,
) -> list[str]:
    """One look: log (and report to `on_burst`) each account whose failed sign-ins reached
    BURST_MIN within BURST_WINDOW_S, and each address whose refused MQTT logins (in the managed
    broker's log, if given) did, unless it was reported less than a window ago (`warned`
    remembers when). Returns what was reported now (account names, `mqtt:<address>`)."""
    since = utcnow() - timedelta(seconds=BURST_WINDOW_S)
    now = time.monotonic()
    reported = []
    if broker_log is not None:
        refused = await asyncio.to_thread(refused_mqtt_logins, broker_log, since)
        for address, n in refused.items():
            key = f"mqtt:{address}"
            if n >= BURST_MIN and now - warned.get(key, -1e9) >= BURST_WINDOW_S:
                warned[key] = now
                reported.append(key)
                log.warning(
                    "unusual activity: %d refused MQTT logins from %s in the last %d s",
                    n,
                    address,
                    int(BURST_WINDOW_S),
                )
                if on_burst is not None:
                    on_burst("refused_mqtt_logins", n)
    for name, n in (await failed_sign_ins(database, since)).items():
        if n >= BURST_MIN and now - warned.get(name, -1e9) >= BURST_WINDOW_S:
            warned[name] = now
            reported.append(name)
            log.warning(
                "unusual activity: %d failed sign-ins for account %s in the last %d s",
                n,
                name,
                int(BURST_WINDOW_S),
            )
            if on_burst is not None:
                on_burst("failed_sign_ins", n)
    return reported


async def watch_bursts(
    database: Database,
    on_burst: Callable[[str, int], None] | None = None,
    data_dir: Path | None = None,
) -> None:
    """`check_bursts` every WATCH_EVERY_S while the server runs (with the managed broker's log
    in `data_dir`, when there is one)."""
    warned: dict[str, float] = {}
    while True:
        try:
            broker_log = data_dir / "broker" / "mosquitto.log" if data_dir else None
            if broker_log is not None and not broker_log.exists():
                broker_log = None
            await check_bursts(database, warned, on_burst, broker_log)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("activity watch failed; retrying")
        await asyncio.sleep(WATCH_EVERY_S)
