"""Input rules, URL safety and the keyring-backed token store."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import pytest

from pooldesk.core import validation as v
from pooldesk.core.failures import Code, failure
from pooldesk.core.settings import UnsafeUrlError, check_broker_url, check_server_url
from pooldesk.core.token_store import SERVICE, StoredSession, TokenStore


@pytest.mark.parametrize("name", ["john", "a_b-c", "x" * 32, "abc123"])
def test_good_usernames(name: str) -> None:
    assert v.username_error(name) is None


@pytest.mark.parametrize("name", ["", "jo", "John", "x" * 33, "a/b", "a+b", "a b", "ñandú"])
def test_bad_usernames_say_what_is_allowed(name: str) -> None:
    assert v.username_error(name)


def test_password_rules_are_listed_one_by_one() -> None:
    rules = v.password_rules("abc")
    assert [r.met for r in rules] == [False, False, True, False, False, True]
    # the server's own list of well-known passwords, and the username, are in the checklist
    assert not v.password_rules("P@ssw0rd-2026!")[-1].met
    assert not v.password_rules("Johnsmith-2026!", "johnsmith")[-1].met
    assert "well-known" in v.password_error("P@ssw0rd-2026!")
    assert all(r.met for r in v.password_rules("SecurePass123!@#"))
    assert v.password_error("SecurePass123!@#") is None
    message = v.password_error("securepass123")
    assert "upper-case" in message
    assert "symbol" in message
    assert "12" not in message


@pytest.mark.parametrize("typed", ["ESP-A1B2C3", "esp-a1b2c3", " ESP-00ff99 "])
def test_device_ids_in_any_case(typed: str) -> None:
    assert v.device_id_error(typed) is None
    assert v.normalize_device_id(typed).startswith("ESP-")


@pytest.mark.parametrize("typed", ["", "ESP-A1B2C", "ESP-A1B2C3-K9M7L2", "ESPA1B2C3", "ESP-G1B2C3"])
def test_bad_device_ids(typed: str) -> None:
    assert v.device_id_error(typed)


def test_email_rules() -> None:
    assert v.email_error("john@example.com") is None
    for bad in ("", "john", "john@localhost", "a..b@example.com", "a b@example.com"):
        assert v.email_error(bad), bad


def test_loopback_http_is_fine_remote_needs_opt_in() -> None:
    assert check_server_url("http://127.0.0.1:8788/", False) == "http://127.0.0.1:8788"
    assert check_server_url("http://localhost:8788", False)
    assert check_server_url("https://pool.example.com", False)
    with pytest.raises(UnsafeUrlError, match="not encrypted"):
        check_server_url("http://pool.example.com", False)
    assert check_server_url("http://pool.example.com", True)


def test_broker_urls() -> None:
    for url in (
        "mqtt://127.0.0.1:1883",
        "mqtts://b.example.com:8883",
        "wss://b.example.com/mqtt",
        "ws://[::1]:9001",
    ):
        assert check_broker_url(url, False)
    for url in ("mqtt://b.example.com", "ws://10.0.0.2:9001"):
        with pytest.raises(UnsafeUrlError):
            check_broker_url(url, False)
    with pytest.raises(UnsafeUrlError, match="starts with"):
        check_broker_url("http://127.0.0.1", False)
    with pytest.raises(UnsafeUrlError, match="port"):
        check_server_url("http://127.0.0.1:99999", False)


def test_token_store_keeps_the_refresh_token_in_the_keyring(memory_keyring) -> None:
    store = TokenStore("http://127.0.0.1:8788")
    assert store.load() is None
    assert store.save(StoredSession("john", "refresh-1")) is True
    assert store.persistent
    assert "refresh-1" in memory_keyring.entries[(SERVICE, "session:http://127.0.0.1:8788")]
    assert TokenStore("http://127.0.0.1:8788").load() == StoredSession("john", "refresh-1")
    assert TokenStore("https://other.example.com").load() is None
    store.clear()
    assert memory_keyring.entries == {}
    store.clear()  # clearing twice is fine


def test_without_a_keyring_the_session_lasts_this_run_only() -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())
    store = TokenStore("http://127.0.0.1:8788")
    assert store.save(StoredSession("john", "refresh-1")) is False
    assert not store.persistent
    assert store.problem == failure(Code.NO_KEYRING)
    assert store.load() == StoredSession("john", "refresh-1")  # kept in memory for this run
    store.clear()
    assert store.load() is None


# -- Wi-Fi settings: the same rule as the controller (pooldesk_firmware/device/prov_check.py) ------
WIFI_PASSWORDS = [
    "poolpass",  # 8 ASCII: the shortest passphrase
    "p" * 63,
    "p" * 64,  # 64 characters that are not hex: neither a passphrase nor a key
    "a1" * 32,  # 64 hex digits: a raw key
    "A1" * 31 + "g0",
    "ñ" * 4,  # 4 characters, 8 bytes
    "ñ" * 3,  # 6 bytes
    "ñ" * 31 + "a",  # 32 characters, 63 bytes
    "ñ" * 32,  # 32 characters, 64 bytes: the old character count let it through
    "contraseña de la piscina: ¡más de sesenta y tres bytes en UTF-8!",
    "水泳プールのパスワード二十二文字です",  # 18 characters, 54 bytes
    "水泳プールのパスワード二十二文字です、長い",  # 21 characters, 63 bytes
    "水泳プールのパスワード二十二文字です、長いよ",  # 22 characters, 66 bytes
    "🏊" * 15 + "abc",  # 4-byte emoji: 63 bytes
    "🏊" * 16,
]


def _firmware_accepts(password: str) -> bool:
    from tests.provisioning.device_side import prov_check  # the firmware's own module

    try:
        prov_check.check_password({"password": password})
    except prov_check.CheckError:
        return False
    return True


@pytest.mark.parametrize("password", WIFI_PASSWORDS)
def test_wifi_password_rule_is_the_controllers(password: str) -> None:
    assert (v.wifi_password_error(password) is None) == _firmware_accepts(password)


def test_a_long_non_ascii_password_is_refused_in_bytes_with_the_reason() -> None:
    password = "contraseña-ñandú-" * 3 + "ü" * 10  # 61 characters, 80 bytes
    assert len(password) <= 63 < len(password.encode())
    problem = v.wifi_choice_error("Piscina", password, network_open=False)
    assert problem is not None
    assert "63 bytes" in problem
    assert "é or ñ" in problem
    assert v.wifi_choice_error("Piscina", "ñ" * 31 + "a", network_open=False) is None


def test_wifi_choice_open_secured_and_other_networks() -> None:
    assert v.wifi_choice_error("", "poolpass", None) is not None
    assert v.wifi_choice_error("ñ" * 17, "poolpass", None) == "A network name has at most 32 bytes."
    assert v.wifi_choice_error("Cafe", "", network_open=True) is None
    assert v.wifi_choice_error("Hidden", "", network_open=None) is None  # typed: may be open
    assert v.wifi_choice_error("Home", "", network_open=False) == "Enter the network's password."
