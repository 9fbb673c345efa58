"""Desktop notifications without a tray icon: the freedesktop.org notification service on the
session D-Bus (GNOME, KDE, XFCE, most Linux desktops), through dbus-fast (bleak's own D-Bus
library on Linux). Qt's tray balloon is used first where there is a tray; this is the fallback.

`await notify(title, text)` returns True when the service took the notification, False when
there is no session bus or no notification service (the caller then shows it in the window).
"""

from __future__ import annotations

import asyncio
import logging
import os

log = logging.getLogger(__name__)

SERVICE = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"
APP_NAME = "PoolDesk"
TIMEOUT_S = 3.0  # a bus that does not answer is no notification service
EXPIRE_MS = 10_000


def bus_available() -> bool:
    return bool(os.environ.get("DBUS_SESSION_BUS_ADDRESS")) or os.path.exists(
        f"/run/user/{os.getuid()}/bus" if hasattr(os, "getuid") else ""
    )


async def notify(title: str, text: str, *, urgency: int = 1) -> bool:
    """Send one notification (urgency 0 low, 1 normal, 2 critical)."""
    if not bus_available():
        return False
    try:
        from dbus_fast import Message, MessageType, Variant
        from dbus_fast.aio import MessageBus
    except ImportError:  # not on Linux: no freedesktop notifications
        return False
    bus = None
    try:
        bus = await asyncio.wait_for(MessageBus().connect(), TIMEOUT_S)
        reply = await asyncio.wait_for(
            bus.call(
                Message(
                    destination=SERVICE,
                    path=PATH,
                    interface=SERVICE,
                    member="Notify",
                    signature="susssasa{sv}i",
                    body=[
                        APP_NAME,
                        0,
                        "dialog-warning",
                        title,
                        text,
                        [],
                        {"urgency": Variant("y", urgency)},
                        EXPIRE_MS,
                    ],
                )
            ),
            TIMEOUT_S,
        )
    except Exception as exc:  # noqa: BLE001 - any failure of the bus means: not available
        log.info("no desktop notification service: %s", type(exc).__name__)
        return False
    finally:
        if bus is not None:
            bus.disconnect()
    if reply is None or reply.message_type is MessageType.ERROR:
        log.info("the notification service refused: %s", reply.error_name if reply else None)
        return False
    return True
