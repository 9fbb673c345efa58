"""Topic rights of each kind of broker login, as pure data (see docs/mqtt.md).

Mosquitto 2.0.11 has no `%u` substitution in role ACLs, so every login gets its own list, computed
here from the owner's username and device id. The same lists drive every broker back end: the
dynamic-security roles of Mosquitto and the answers of the HTTP-auth back end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pooldesk_contract import topics

AclType = Literal[
    "publishClientSend",  # the client may publish to topics matching `topic`
    "publishClientReceive",  # the broker may deliver messages on topics matching `topic`
    "subscribePattern",  # the client may subscribe with a filter that lies within `topic`
]

_LEVEL = re.compile(topics.LEVEL_PATTERN)

RECORDER_SHARE_GROUP = "recorder"
RECORDER_SUBSCRIPTION = f"$share/{RECORDER_SHARE_GROUP}/{topics.ALL_DEVICES}"

# Topics under a device prefix (docs/mqtt.md, "Topic tree"; the table is pooldesk_contract.topics).
DEVICE_PUBLISHES = topics.DEVICE_PUBLISHES
DEVICE_RECEIVES = topics.DEVICE_RECEIVES
READABLE = topics.READABLE
BINDING_SET = topics.BINDING_SET.of_every_device
BINDING_STATE = topics.BINDING_STATE.of_every_device


class InvalidTopicName(ValueError):
    """A username or device id that cannot safely become a topic level."""


@dataclass(frozen=True)
class AclRule:
    acltype: AclType
    topic: str
    allow: bool = True
    priority: int = 0


Rights = tuple[AclRule, ...]


def topic_level(value: str, what: str) -> str:
    """Return `value` if it is one safe topic level (`[a-z0-9_-]`, 1-64 chars), else raise.

    Wildcards (`+`, `#`), separators (`/`) or a leading `$` in a username would widen a login's
    rights to other tenants, so they are refused rather than escaped.
    """
    if not isinstance(value, str) or not _LEVEL.fullmatch(value):
        raise InvalidTopicName(
            f"{what} {value!r} cannot be used in MQTT topics: "
            "use 1-64 characters a-z, 0-9, '_' or '-'"
        )
    return value


def device_level(device_id: str) -> str:
    """A device id as it appears in topics: lower case (`ESP-A1B2C3` -> `esp-a1b2c3`)."""
    if not isinstance(device_id, str):
        raise InvalidTopicName(f"device id {device_id!r} is not text")
    return topic_level(device_id.lower(), "device id")


def user_prefix(username: str) -> str:
    return topics.user_prefix(topic_level(username, "username"))


def device_prefix(username: str, device_id: str) -> str:
    return topics.device_prefix(topic_level(username, "username"), device_level(device_id))


def readable(devices: str) -> Rights:
    """Receive rights on every device topic but `binding/#`; `devices` is a device prefix or
    a filter of them (`users/alice/devices/+`)."""
    return tuple(AclRule("publishClientReceive", f"{devices}/{t}") for t in READABLE)


# Device-only topics under a device prefix: a dashboard (even the owner's) may neither subscribe
# to nor receive them, as they carry a device login (docs/sharing.md, "a new binding for a bound
# device"). Deny rules where the back end has them; receive rights list only `READABLE` topics,
# so a back end without deny rules (HiveMQ) withholds them too.
DASHBOARD_DENIED = ("binding/#",)
DENY_PRIORITY = 10  # deny rules are decided before any allow rule


@dataclass(frozen=True)
class SharedDevice:
    """An active share as the member's dashboard login sees it (docs/sharing.md)."""

    owner: str  # the owner's username
    device_id: str | None  # None: every device of the owner, current and future
    role: Literal["operator", "viewer"]


def _grant(prefix: str, device: str | None, publish: bool) -> list[AclRule]:
    """Read all readable topics under `prefix/devices/<device>` (any device of `prefix` for
    `None`), and with `publish` send the two commands."""
    devices = f"{prefix}/devices/{device or '+'}"
    read = f"{prefix}/#" if device is None else f"{devices}/#"
    rules = [AclRule("subscribePattern", read), *readable(devices)]
    if publish:
        rules.append(
            AclRule("publishClientSend", topics.command_topic(prefix, device or "+", "pump"))
        )
        rules.append(
            AclRule("publishClientSend", topics.command_topic(prefix, device or "+", "schedule"))
        )
    return rules


def dashboard_rights(username: str, shared: tuple[SharedDevice, ...] = ()) -> Rights:
    """A signed-in app session: reads its user's devices and the devices shared with it,
    publishes only commands (not as a viewer), never touches device-only topics."""
    rules = [
        AclRule(acltype, f"{topics.EVERY_DEVICE}/{topic}", allow=False, priority=DENY_PRIORITY)
        for topic in DASHBOARD_DENIED
        for acltype in ("subscribePattern", "publishClientReceive")
    ]
    rules += _grant(user_prefix(username), None, publish=True)
    for share in shared:
        device = "+" if share.device_id is None else device_level(share.device_id)
        rules += _grant(user_prefix(share.owner), device, publish=share.role == "operator")
    return tuple(rules)


def device_rights(username: str, device_id: str) -> Rights:
    """A device: publishes its own state, reads only its own `.../set` topics."""
    prefix = device_prefix(username, device_id)
    rules = [AclRule("publishClientSend", f"{prefix}/{t}") for t in DEVICE_PUBLISHES]
    for topic in DEVICE_RECEIVES:
        rules.append(AclRule("subscribePattern", f"{prefix}/{topic}"))
        rules.append(AclRule("publishClientReceive", f"{prefix}/{topic}"))
    return tuple(rules)


def recorder_rights() -> Rights:
    """The backend's recorder: one shared subscription over every device, read-only, never
    `binding/#`."""
    return (AclRule("subscribePattern", RECORDER_SUBSCRIPTION), *readable(topics.EVERY_DEVICE))


def mover_rights() -> Rights:
    """The backend's hand-over service login (docs/sharing.md): gives any device its new binding
    and hears every device's answer, nothing else."""
    return (
        AclRule("publishClientSend", BINDING_SET),
        AclRule("subscribePattern", BINDING_STATE),
        AclRule("publishClientReceive", BINDING_STATE),
    )


def check_filter(topic: str) -> str:
    """Return `topic` if it is a well-formed MQTT topic filter, else raise `InvalidTopicName`."""
    levels = topic.split("/")
    bad = (
        not topic
        or len(topic.encode()) > 65535
        or "\0" in topic
        or any(("+" in lvl and lvl != "+") or ("#" in lvl and lvl != "#") for lvl in levels)
        or "#" in levels[:-1]
    )
    if bad:
        raise InvalidTopicName(f"{topic!r} is not a valid MQTT topic filter")
    return topic


def loses_a_right(old: Rights, new: Rights) -> bool:
    """Does going from `old` to `new` take anything away: an allow rule that goes or changes,
    or a deny rule that comes or changes? (A widening alone keeps live connections.)"""
    kept, had = set(new), set(old)
    return any(r.allow and r not in kept for r in old) or any(
        not r.allow and r not in had for r in new
    )


def check_rights(rights: Rights) -> Rights:
    """Refuse malformed rules before anything reaches the broker (nothing is half-applied)."""
    for rule in rights:
        if rule.acltype not in ("publishClientSend", "publishClientReceive", "subscribePattern"):
            raise InvalidTopicName(f"unknown ACL type {rule.acltype!r}")
        check_filter(rule.topic)
    return rights
