"""Rights and login naming: what becomes a topic level is safe, passwords are strong and fresh."""

from __future__ import annotations

import pytest

from pooldesk_server.broker.logins import (
    dashboard_login,
    device_login,
    new_password,
    recorder_login,
)
from pooldesk_server.broker.matching import topic_matches
from pooldesk_server.broker.rights import (
    AclRule,
    InvalidTopicName,
    check_rights,
    dashboard_rights,
    device_prefix,
    device_rights,
    mover_rights,
    recorder_rights,
    user_prefix,
)


@pytest.mark.parametrize("username", ["a+b", "a/b", "#", "+", "$sys", "John", "", "x" * 65, "é"])
def test_usernames_that_would_widen_topics_are_refused(username):
    with pytest.raises(InvalidTopicName, match="cannot be used in MQTT topics"):
        dashboard_rights(username)


def test_device_ids_are_lower_case_in_topics():
    assert device_prefix("john", "ESP-A1B2C3") == "users/john/devices/esp-a1b2c3"
    assert user_prefix("john") == "users/john"
    with pytest.raises(InvalidTopicName):
        device_prefix("john", "ESP/#")


def test_dashboard_publishes_only_commands_of_its_own_user():
    sends = {r.topic for r in dashboard_rights("john") if r.acltype == "publishClientSend"}
    assert sends == {"users/john/devices/+/pump/set", "users/john/devices/+/schedule/set"}


def test_only_the_device_receives_binding_topics():
    john = device_prefix("john", "ESP-A1B2C3")
    for rights in (dashboard_rights("john"), recorder_rights()):
        receive = [r.topic for r in rights if r.acltype == "publishClientReceive" and r.allow]
        assert not any(topic_matches(f, f"{john}/binding/set") for f in receive)
        assert any(topic_matches(f, f"{john}/pump/state") for f in receive)
    assert {r.topic for r in mover_rights()} == {
        "users/+/devices/+/binding/set",
        "users/+/devices/+/binding/state",
    }


def test_device_reads_only_its_own_set_and_update_topics():
    rights = device_rights("john", "ESP-A1B2C3")
    reads = {r.topic for r in rights if r.acltype in ("subscribePattern", "publishClientReceive")}
    assert reads == {
        "users/john/devices/esp-a1b2c3/pump/set",
        "users/john/devices/esp-a1b2c3/schedule/set",
        "users/john/devices/esp-a1b2c3/ota/offer",  # firmware updates (docs/updates.md)
        "users/john/devices/esp-a1b2c3/ota/data",
        "users/john/devices/esp-a1b2c3/binding/set",  # hand-over (docs/sharing.md)
    }
    assert all(r.topic.startswith("users/john/devices/esp-a1b2c3/") for r in rights)


def test_logins_have_fixed_client_ids_and_fresh_strong_passwords():
    first, second = device_login("john", "ESP-A1B2C3"), device_login("john", "ESP-A1B2C3")
    assert first.client_id == "esp-a1b2c3"
    assert first.username == "dev-esp-a1b2c3"
    assert first.password != second.password
    assert len(new_password()) >= 32  # 24 random bytes in base64
    assert "password" not in repr(first)
    assert first.password not in repr(first)
    session = dashboard_login("john", "8F0C-11AA")
    assert session.username == session.client_id == "app-8f0c11aa"
    assert recorder_login("b").client_id == "recorder-b"


def test_malformed_filters_are_refused():
    for topic in ("users/#/x", "users/a+/x", "", "a\0b"):
        with pytest.raises(InvalidTopicName):
            check_rights((AclRule("publishClientSend", topic),))
    assert check_rights(dashboard_rights("john"))
