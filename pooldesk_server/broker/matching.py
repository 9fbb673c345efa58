"""MQTT topic matching, for back ends where the backend itself decides each access."""

from __future__ import annotations

from typing import Literal

from pooldesk_server.broker.rights import AclRule, Rights

Access = Literal["publish", "receive", "subscribe"]


def topic_matches(topic_filter: str, topic: str) -> bool:
    """Does the filter (may hold `+`/`#`) match the concrete topic? MQTT 3.1.1 §4.7 rules."""
    f_levels, t_levels = topic_filter.split("/"), topic.split("/")
    if topic.startswith("$") and f_levels[0] in ("+", "#"):
        return False
    for i, level in enumerate(f_levels):
        if level == "#":
            return True
        if i >= len(t_levels):
            return False
        if level != "+" and level != t_levels[i]:
            return False
    return len(f_levels) == len(t_levels)


def filter_within(subscription: str, pattern: str) -> bool:
    """Is every topic the subscription could match also matched by `pattern`?

    A wildcard in the subscription only passes where the pattern has an equal or wider wildcard,
    so `users/+/x` is not within `users/alice/#` and `#` is within nothing but `#`.
    """
    s_levels, p_levels = subscription.split("/"), pattern.split("/")
    if subscription.startswith("$") != pattern.startswith("$"):
        return False
    for i, p in enumerate(p_levels):
        if p == "#":
            return True
        if i >= len(s_levels):
            return False
        s = s_levels[i]
        if s == "#":
            return False
        if p != "+" and s != p:
            return False
    return len(s_levels) == len(p_levels)


def _valid_topic(topic: str, wildcards: bool) -> bool:
    if not topic or "\0" in topic or len(topic.encode()) > 65535:
        return False
    if wildcards:
        levels = topic.split("/")
        return (
            not any(("+" in lvl and lvl != "+") or ("#" in lvl and lvl != "#") for lvl in levels)
            and "#" not in levels[:-1]
        )
    return "+" not in topic and "#" not in topic


def _matches(rule: AclRule, access: Access, topic: str) -> bool:
    if access == "subscribe":
        return rule.acltype == "subscribePattern" and filter_within(topic, rule.topic)
    acltype = "publishClientSend" if access == "publish" else "publishClientReceive"
    return rule.acltype == acltype and topic_matches(rule.topic, topic)


def allowed(rights: Rights, access: Access, topic: str) -> bool:
    """Decide one access the way Mosquitto's dynamic-security plugin does for these rights:
    a matching deny rule wins over every allow rule (deny rules carry the higher priority).
    A subscription is denied when it lies within a denied filter; one that merely overlaps it
    (`users/alice/#` and `users/+/devices/+/binding/#`) is allowed, and the messages of the
    denied topics are then refused at delivery."""
    if not _valid_topic(topic, wildcards=access == "subscribe"):
        return False
    if any(not r.allow and _matches(r, access, topic) for r in rights):
        return False
    return any(r.allow and _matches(r, access, topic) for r in rights)
