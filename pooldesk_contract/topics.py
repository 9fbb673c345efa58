"""The MQTT topic tree (docs/mqtt.md, "Topic tree"): prefixes, and every topic under a device
prefix with who publishes it and whether it is retained.

    users/<username>/                       user prefix (a dashboard's topicPrefix)
    users/<username>/devices/<esp-xxxxxx>/  device prefix (a device's topicPrefix)

Broker rights, retained-message clean-up, the recorder, the app's subscriptions and its command
topics are all derived from `DEVICE_TOPICS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pooldesk_contract.ids import TOPIC_ID_PATTERN, topic_id

Publisher = Literal["device", "dashboard", "backend"]

USERS = "users"
DEVICES = "devices"
LEVEL_PATTERN = r"[a-z0-9_-]{1,64}"  # one safe topic level (usernames, device ids)
EVERY_DEVICE = f"{USERS}/+/{DEVICES}/+"  # a filter matching every device prefix


@dataclass(frozen=True)
class Topic:
    """One topic under a device prefix. `name` may end in `/+` (one topic per id)."""

    name: str
    publisher: Publisher  # who publishes it; the device reads what others publish
    retained: bool
    summary: str

    @property
    def to_device(self) -> bool:
        return self.publisher != "device"

    def under(self, prefix: str) -> str:
        """This topic under one device prefix (`users/alice/devices/esp-a1b2c3/ota/offer`)."""
        return f"{prefix}/{self.name}"

    @property
    def of_every_device(self) -> str:
        """A filter for this topic of every device of every user (`users/+/devices/+/status`)."""
        return f"{EVERY_DEVICE}/{self.name}"


DEVICE_TOPICS: tuple[Topic, ...] = (
    Topic("status", "device", True, '"online" | "offline" (the last will)'),
    Topic("pump/state", "device", True, "current pump state, echoes cmd_id"),
    Topic("pump/set", "dashboard", False, "command with cmd_id"),
    Topic("telemetry", "device", False, "measurements"),
    Topic("schedule", "device", True, "the schedule the device runs now"),
    Topic("schedule/set", "dashboard", False, "replace the schedule"),
    Topic("alert/+", "device", True, "an active alert; empty payload clears it"),
    Topic("event", "device", False, "one-off happenings (boot, command rejected, ...)"),
    Topic("ota/offer", "backend", True, "a firmware release offered (empty: withdrawn)"),
    Topic("ota/status", "device", True, "how far the update got"),
    Topic("ota/get", "device", False, "ask for one chunk of a release file"),
    Topic("ota/data", "backend", False, "that chunk"),
    # hand-over (docs/sharing.md): only the device itself may read `binding/set` (it carries a
    # device password); the backend's mover hears `binding/state`
    Topic("binding/set", "backend", True, "a new binding for a bound device (device-only)"),
    Topic("binding/state", "device", False, "the answer to a new binding"),
)
BY_NAME = {t.name: t for t in DEVICE_TOPICS}
STATUS = BY_NAME["status"]
OTA_TOPICS = tuple(t for t in DEVICE_TOPICS if t.name.startswith("ota/"))
OTA_OFFER, OTA_STATUS, OTA_GET, OTA_DATA = (
    BY_NAME[n] for n in ("ota/offer", "ota/status", "ota/get", "ota/data")
)
BINDING_SET, BINDING_STATE = BY_NAME["binding/set"], BY_NAME["binding/state"]

DEVICE_PUBLISHES = tuple(t.name for t in DEVICE_TOPICS if t.publisher == "device")
DEVICE_RECEIVES = tuple(t.name for t in DEVICE_TOPICS if t.to_device)
RETAINED = tuple(t.name for t in DEVICE_TOPICS if t.retained)
# Commands a dashboard sends: `<kind>/set`, answered by the device's `<kind>` state topic.
COMMANDS = tuple(t.name for t in DEVICE_TOPICS if t.publisher == "dashboard")
COMMAND_KINDS = tuple(name.removesuffix("/set") for name in COMMANDS)
# Only the device and the backend's mover: never delivered to dashboards or the recorder.
DEVICE_ONLY = tuple(t.name for t in DEVICE_TOPICS if t.name.startswith("binding/"))
# What dashboards and the recorder may receive under a device prefix.
READABLE = tuple(t.name for t in DEVICE_TOPICS if t.name not in DEVICE_ONLY)
# What a dashboard shows: the device's own topics except the firmware-update exchange.
DASHBOARD_TOPICS = tuple(
    n for n in DEVICE_PUBLISHES if not n.startswith("ota/") and n not in DEVICE_ONLY
)
# Recorded in history: topic under the device prefix -> event type stored.
RECORDED = {
    "status": "status",
    "pump/state": "state",
    "telemetry": "telemetry",
    "schedule": "schedule",
    "event": "event",
}

# Any device topic of any user: groups username, device id (topic form) and the rest.
DEVICE_TOPIC = re.compile(rf"{USERS}/({LEVEL_PATTERN})/{DEVICES}/({TOPIC_ID_PATTERN})/(.+)")
ALL_DEVICES = f"{EVERY_DEVICE}/#"


def topic_named(rest: str) -> Topic | None:
    """The contract's topic for `rest`, a topic under a device prefix (`alert/freeze` is the
    topic `alert/+`), or None when the contract has no such topic."""
    exact = BY_NAME.get(rest)
    if exact is not None:
        return exact
    head, _, leaf = rest.rpartition("/")
    return BY_NAME.get(f"{head}/+") if head and leaf and leaf not in ("+", "#") else None


def user_prefix(username: str) -> str:
    """`users/<username>`; the caller checks that `username` is one safe topic level."""
    return f"{USERS}/{username}"


def device_prefix(username: str, device_id: str) -> str:
    """`users/<username>/devices/<esp-xxxxxx>` (the device id in either case)."""
    return f"{user_prefix(username)}/{DEVICES}/{topic_id(device_id)}"


def command_topic(user_prefix_: str, device_key: str, kind: str) -> str:
    """The topic a dashboard sends a `kind` command on (`pump` -> `.../pump/set`)."""
    name = f"{kind}/set"
    if name not in COMMANDS:
        raise ValueError(f"{kind!r} is not a command kind ({', '.join(COMMAND_KINDS)})")
    return f"{user_prefix_}/{DEVICES}/{device_key}/{name}"


def dashboard_subscriptions() -> tuple[str, ...]:
    """Topic filters relative to a user prefix that a dashboard subscribes to."""
    return tuple(f"{DEVICES}/+/{name}" for name in DASHBOARD_TOPICS)
