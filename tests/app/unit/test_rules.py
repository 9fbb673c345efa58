"""Input rules, URL safety and the keyring-backed token store."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import pytest

from pooldesk.core import validation as v
from pooldesk.core.commands import CommandTracker, InvalidCommand
from pooldesk.core.devices import DeviceStore
from pooldesk.core.failures import Code, failure
from pooldesk.core.settings import UnsafeUrlError, check_broker_url, check_server_url
from pooldesk.core.token_store import SERVICE, StoredSession, TokenStore
from pooldesk.provisioning import InvalidClaimCode, parse_claim_code


@pytest.mark.parametrize("name", ["john", "a_b-c", "x" * 32, "abc123"])
def test_good_usernames(name: str) -> None:
    assert v.username_error(name) is None


@pytest.mark.parametrize("name", ["", "jo", "John", "x" * 33, "a/b", "a+b", "a b", "ñandú"])
def test_bad_usernames_say_what_is_allowed(name: str) -> None:
    expected = Code.USERNAME_EMPTY if not name else Code.USERNAME_INVALID
    assert v.username_error(name) == failure(expected)


def test_password_rules_are_listed_one_by_one() -> None:
    rules = v.password_rules("abc")
    assert [r.met for r in rules] == [False, False, True, False, False, True]
    # the server's own list of well-known passwords, and the username, are in the checklist
    assert not v.password_rules("P@ssw0rd-2026!")[-1].met
    assert not v.password_rules("Johnsmith-2026!", "johnsmith")[-1].met
    assert v.password_error("P@ssw0rd-2026!") == failure(
        Code.PASSWORD_NEEDS, rules=(failure(Code.RULE_NOT_COMMON),)
    )
    assert all(r.met for r in v.password_rules("SecurePass123!@#"))
    assert v.password_error("SecurePass123!@#") is None
    # the unmet rules, as codes, in the checklist's order; the English names them in a row
    message = v.password_error("securepass123")
    assert message == failure(
        Code.PASSWORD_NEEDS, rules=(failure(Code.RULE_UPPER), failure(Code.RULE_SYMBOL))
    )
    assert str(message) == "The password needs: an upper-case letter, a symbol such as ! or #."
    assert v.password_rules("")[0].text == failure(Code.RULE_LENGTH, count=12)
    assert v.password_error("Aa1!" * 65) == failure(Code.TOO_LONG, limit=256)


@pytest.mark.parametrize("typed", ["ESP-A1B2C3", "esp-a1b2c3", " ESP-00ff99 "])
def test_device_ids_in_any_case(typed: str) -> None:
    assert v.device_id_error(typed) is None
    assert v.normalize_device_id(typed).startswith("ESP-")


@pytest.mark.parametrize("typed", ["", "ESP-A1B2C", "ESP-A1B2C3-K9M7L2", "ESPA1B2C3", "ESP-G1B2C3"])
def test_bad_device_ids(typed: str) -> None:
    expected = Code.DEVICE_ID_EMPTY if not typed else Code.DEVICE_ID_INVALID
    assert v.device_id_error(typed) == failure(expected)


def test_email_rules() -> None:
    assert v.email_error("john@example.com") is None
    assert v.email_error("") == failure(Code.EMAIL_EMPTY)
    for bad in ("john", "john@localhost", "a..b@example.com", "a b@example.com"):
        assert v.email_error(bad) == failure(Code.EMAIL_INVALID), bad


def test_device_names() -> None:
    assert v.device_name_error(" Pool ") is None
    assert v.device_name_error("  ") == failure(Code.NAME_EMPTY)
    assert v.device_name_error("x" * 65) == failure(Code.TOO_LONG, limit=64)


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
    assert problem == failure(Code.WIFI_PASSWORD_INVALID)
    assert "63 bytes" in str(problem)
    assert "é or ñ" in str(problem)
    assert v.wifi_choice_error("Piscina", "ñ" * 31 + "a", network_open=False) is None


def test_wifi_choice_open_secured_and_other_networks() -> None:
    assert v.wifi_choice_error("", "poolpass", None) == failure(Code.WIFI_NO_NETWORK)
    too_long = failure(Code.WIFI_SSID_TOO_LONG, limit=32)
    assert v.wifi_choice_error("ñ" * 17, "poolpass", None) == too_long
    assert v.wifi_choice_error("Cafe", "", network_open=True) is None
    assert v.wifi_choice_error("Hidden", "", network_open=None) is None  # typed: may be open
    assert v.wifi_choice_error("Home", "", network_open=False) == failure(Code.WIFI_PASSWORD_EMPTY)


@pytest.mark.parametrize("seconds", [0, 86401])
def test_a_timer_out_of_range_is_refused_with_its_code_and_nothing_is_sent(seconds: int) -> None:
    sent: list[str] = []
    tracker = CommandTracker(DeviceStore(), lambda topic, _payload: sent.append(topic) or True)
    with pytest.raises(InvalidCommand) as refused:
        tracker.run_for("esp-a1b2c3", seconds)
    assert refused.value.failure == failure(Code.TIMER_RANGE)
    assert sent == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("KQ4M-7XTZ", failure(Code.CLAIM_CODE_LENGTH, length=16, count=8)),
        ("KQ4M-7XTZ-2PB6-WR9H", failure(Code.CLAIM_CODE_CHARACTERS, characters="9")),
        ("POOLDESK:1:ESP-A1B2C3:KQ4M", failure(Code.CLAIM_CODE_LENGTH, length=16, count=4)),
    ],
)
def test_a_typed_claim_code_that_is_not_one_says_why_as_a_code(typed: str, expected) -> None:
    with pytest.raises(InvalidClaimCode) as refused:
        parse_claim_code(typed)
    assert refused.value.failure == expected
