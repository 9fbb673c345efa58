"""The client against the device-side protocol code, in process, over an in-memory link."""

from __future__ import annotations

import asyncio
import json

import pytest

from pooldesk.provisioning import (
    Binding,
    ClaimCodeForOtherDevice,
    DeviceError,
    InvalidClaimCode,
    ProvisioningClient,
    RetryLater,
    SessionRequired,
    WrongClaimCode,
)

from .memlink import MemoryLink
from .table_host import Network, TableHost

CODE = "KQ4M7XTZ2PB6WRHD"
MQTT_USER, MQTT_PASSWORD = "dev-esp-a1b2c3", "mqtt-pass-0123456789"


class Clock:
    def __init__(self) -> None:
        self.ms = 1_000_000

    def __call__(self) -> int:
        return self.ms


def make_host(**kw: object) -> TableHost:
    networks = {"PoolHouse": Network("right-password", -48), "Cafe": Network("", -70, "open")}
    return TableHost(
        claim_code=CODE, networks=networks, broker_logins={MQTT_USER: MQTT_PASSWORD}, **kw
    )  # type: ignore[arg-type]


def binding(**overrides: str) -> Binding:
    fields = {
        "ssid": "PoolHouse",
        "password": "right-password",
        "broker_url": "mqtts://127.0.0.1:8883",
        "mqtt_user": MQTT_USER,
        "mqtt_password": MQTT_PASSWORD,
        "client_id": "esp-a1b2c3",
        "topic_prefix": "users/alice/devices/esp-a1b2c3",
        "username": "alice",
    }
    fields.update(overrides)
    return Binding(**fields)


@pytest.fixture
async def rig():
    host = make_host()
    clock = Clock()
    link = MemoryLink(host, mtu=23, now_ms=clock)
    client = ProvisioningClient(link, timeout=5.0)
    yield host, link, client, clock
    await host.aclose()


async def test_device_info_is_plaintext_and_readable_before_any_session(rig):
    _host, _link, client, _ = rig
    info = await client.device_info()
    assert info.device_id == "ESP-A1B2C3"
    assert info.bound is False
    assert 1 in info.protocol_versions
    assert "wifi_scan" in info.capabilities


async def test_identify_works_before_the_session_and_is_capped(rig):
    host, _link, client, _ = rig
    await client.identify(30)
    assert host.identified == [10]  # plaintext identify blinks at most 10 s
    await client.open_session(CODE)
    await client.identify(30)
    assert host.identified == [10, 30]


async def test_full_provisioning_scan_then_binding_reaches_mqtt(rig):
    host, _link, client, _ = rig
    await client.device_info()
    await client.open_session("kq4m-7xtz-2pb6-wrhd")  # grouped, lower case: normalised
    networks = await client.scan_wifi()
    assert [n.ssid for n in networks] == ["PoolHouse", "Cafe"]
    assert networks[1].is_open
    final = await client.send_binding(binding(), wait=True, timeout_s=5)
    assert final is not None
    assert final.state == "mqtt_connected"
    assert host.bound
    assert host.binding["mqtt_password"] == MQTT_PASSWORD
    assert (await client.status()).state == "mqtt_connected"
    assert (await client.device_info()).bound is True


async def test_secrets_never_cross_the_air_in_clear(rig):
    _host, link, client, _ = rig
    await client.open_session(CODE)
    await client.send_binding(binding(), wait=True, timeout_s=5)
    on_air = b"".join(frame for _, frame in link.written + link.notified)
    for secret in (b"right-password", MQTT_PASSWORD.encode(), CODE.encode(), b"PoolHouse"):
        assert secret not in on_air


async def test_wrong_claim_code_fails_plainly_and_the_right_one_then_works(rig):
    _host, link, client, _ = rig
    with pytest.raises(WrongClaimCode) as err:
        await client.open_session("KQ4M7XTZ2PB6WRHE")
    assert "does not match" in str(err.value)
    assert not client.session_open
    with pytest.raises(SessionRequired):
        await client.scan_wifi()
    # the device never sent its confirmation for the wrong code
    assert not any(b'"op": "confirm"' in frame for _, frame in link.notified)
    await client.open_session(CODE)
    assert len(await client.scan_wifi()) == 2


async def test_repeated_wrong_codes_slow_down_then_recover_without_lockout(rig):
    _host, _link, client, clock = rig
    for _ in range(2):  # two typos are free
        with pytest.raises(WrongClaimCode) as err:
            await client.open_session("AAAAAAAAAAAAAAAA")
        assert err.value.retry_after == 0
    with pytest.raises(WrongClaimCode) as err:
        await client.open_session("AAAAAAAAAAAAAAAA")
    assert err.value.retry_after == 2.0
    with pytest.raises(RetryLater) as later:
        await client.open_session(CODE)  # even the right code waits
    assert 0 < later.value.retry_after <= 2.0
    assert "Wait" in str(later.value)
    clock.ms += 2_000
    with pytest.raises(WrongClaimCode) as err:
        await client.open_session("AAAAAAAAAAAAAAAA")
    assert err.value.retry_after == 4.0  # the wait grows
    for _ in range(10):  # ... but never past a minute
        clock.ms += 60_000
        with pytest.raises(WrongClaimCode) as err:
            await client.open_session("AAAAAAAAAAAAAAAA")
        assert err.value.retry_after <= 60.0
    clock.ms += 60_000
    await client.open_session(CODE)  # success resets the count
    await client.close()
    with pytest.raises(WrongClaimCode) as err:
        await client.open_session("AAAAAAAAAAAAAAAA")
    assert err.value.retry_after == 0


async def test_malformed_claim_code_is_refused_before_any_radio_traffic(rig):
    _host, link, client, _ = rig
    with pytest.raises(InvalidClaimCode) as err:
        await client.open_session("12345")
    assert "16" in str(err.value)
    assert link.written == []


async def test_qr_text_of_another_device_is_refused(rig):
    _host, _link, client, _ = rig
    await client.device_info()
    with pytest.raises(ClaimCodeForOtherDevice):
        await client.open_session(f"POOLDESK:1:ESP-FFFFFF:{CODE}")
    await client.open_session(f"POOLDESK:1:ESP-A1B2C3:{CODE}")
    assert client.session_open


async def test_wrong_wifi_password_then_the_right_one_in_the_same_session(rig):
    _host, _link, client, _ = rig
    await client.open_session(CODE)
    failed = await client.send_binding(binding(password="wrong-password"), wait=True, timeout_s=5)
    assert failed is not None
    assert failed.reason == "wifi_auth"
    assert "password" in (failed.advice or "")
    ok = await client.send_binding(binding(), wait=True, timeout_s=5)
    assert ok is not None
    assert ok.state == "mqtt_connected"


async def test_network_not_found_and_broker_login_refused_are_told_apart(rig):
    host, _link, client, _ = rig
    await client.open_session(CODE)
    gone = await client.send_binding(binding(ssid="Elsewhere"), wait=True, timeout_s=5)
    assert gone is not None
    assert gone.reason == "wifi_not_found"
    refused = await client.send_binding(
        binding(mqtt_password="stale-password"), wait=True, timeout_s=5
    )
    assert refused is not None
    assert refused.reason == "broker_auth"
    host.broker_reachable = False
    down = await client.send_binding(binding(), wait=True, timeout_s=5)
    assert down is not None
    assert down.reason == "broker_unreachable"


async def test_status_events_arrive_in_order_through_callbacks_and_watches(rig):
    _host, _link, client, _ = rig
    seen: list[str] = []
    client.on_status(lambda e: seen.append(e.state))
    await client.open_session(CODE)
    watch = client.watch_status()
    await client.send_binding(binding())
    states = [(await watch.next(5)).state for _ in range(3)]
    watch.close()
    assert states == ["connecting", "wifi_connected", "mqtt_connected"]
    assert seen == states
    assert client.last_status is not None
    assert client.last_status.ip is None


async def test_change_wifi_on_a_bound_device_keeps_its_binding(rig):
    host, _link, client, _ = rig
    await client.open_session(CODE)
    with pytest.raises(DeviceError) as err:
        await client.send_wifi("PoolHouse", "right-password")
    assert err.value.code == "not_bound"
    await client.send_binding(binding(), wait=True, timeout_s=5)
    host.networks["NewRouter"] = Network("new-router-pass", -40)
    done = await client.send_wifi("NewRouter", "new-router-pass", wait=True, timeout_s=5)
    assert done is not None
    assert done.state == "mqtt_connected"
    assert host.binding["ssid"] == "NewRouter"
    assert host.binding["mqtt_user"] == MQTT_USER
    assert host.binding["username"] == "alice"


async def test_a_new_session_on_a_bound_device_needs_the_claim_code(rig):
    host, link, client, _ = rig
    await client.open_session(CODE)
    await client.send_binding(binding(), wait=True, timeout_s=5)
    await client.close()
    stranger = ProvisioningClient(link, timeout=5.0)
    with pytest.raises(SessionRequired):
        await stranger.send_wifi("Evil", "evil-password")
    with pytest.raises(WrongClaimCode):
        await stranger.open_session("BBBBBBBBBBBBBBBB")
    # raw plaintext requests for the config endpoint are refused by the device itself
    await link.raw_write(
        "prov-config",
        b"\x07\x01\x00\x00\x01"
        + json.dumps({"v": 1, "op": "wifi", "ssid": "Evil", "password": "evil-password"}).encode(),
    )
    await asyncio.sleep(0)
    assert [kind for kind, _ in host.applied] == ["binding"]
    reply = b"".join(f[4:] for e, f in link.notified if e == "prov-config" and f[0] == 7)
    assert b"no_session" in reply


async def test_invalid_field_names_the_field_and_applies_nothing(rig):
    host, _link, client, _ = rig
    await client.open_session(CODE)
    with pytest.raises(DeviceError) as err:
        await client.send_binding(binding(topic_prefix="users/#"))
    assert err.value.code == "invalid"
    assert err.value.field == "topic_prefix"
    with pytest.raises(DeviceError) as err:
        await client.send_binding(binding(password="short"))
    assert err.value.field == "password"
    assert host.applied == []
    assert not host.bound


async def test_replayed_binding_is_refused_and_applied_once(rig):
    host, link, client, _ = rig
    await client.open_session(CODE)
    start = len(link.written)
    await client.send_binding(binding(), wait=True, timeout_s=5)
    captured = [(e, f) for e, f in link.written[start:] if e == "prov-config"]
    before = len(link.notified)
    for endpoint, frame in captured:
        await link.raw_write(endpoint, frame)
    await asyncio.sleep(0)
    assert len(host.applied) == 1
    replies = b"".join(frame[4:] for _, frame in link.notified[before:])
    assert b"bad_record" in replies
    # the genuine client's session still works after the replay attempt
    assert (await client.status()).state == "mqtt_connected"


async def test_large_binding_with_ca_certificate_is_chunked_at_minimum_mtu(rig):
    host, link, client, _ = rig
    pem = "-----BEGIN CERTIFICATE-----\n" + ("A" * 64 + "\n") * 30 + "-----END CERTIFICATE-----\n"
    await client.open_session(CODE)
    await client.send_binding(Binding(**{**binding().to_json(), "ca_cert": pem}))
    assert host.binding["ca_cert"] == pem
    assert max(len(f) for _, f in link.written) <= 20


async def test_scan_is_paged_and_strongest_first(rig):
    host, link, client, _ = rig
    host.networks = {f"Net{i:02d}": Network("password-x", -30 - i) for i in range(19)}
    await client.open_session(CODE)
    networks = await client.scan_wifi()
    assert len(networks) == 19
    assert [n.rssi for n in networks] == sorted((n.rssi for n in networks), reverse=True)
    assert sum(1 for e, f in link.notified if e == "prov-scan" and f[1] & 1) == 3  # 3 pages


async def test_close_ends_the_session_on_the_device(rig):
    _host, link, client, _ = rig
    await client.open_session(CODE)
    await client.close()
    assert not link.core.established
    with pytest.raises(SessionRequired):
        await client.status()


async def test_disconnect_forgets_the_session(rig):
    _host, link, client, _ = rig
    await client.open_session(CODE)
    link.disconnect()
    client.connection_lost()
    assert not link.core.established
    assert not client.session_open


class RetryingHost(TableHost):
    """A controller that keeps retrying settings that failed, as the firmware does after its
    back-off: its retry of the wrong password fails at the very moment corrected settings
    arrive, so that `failed` reaches the client after it sent them and before the answer."""

    async def apply_binding(self, b: dict[str, object]) -> None:
        if self.binding is not None and self.binding != b:
            self._publish("failed", {"reason": "wifi_auth"})  # the retry of the old settings
        await super().apply_binding(b)

    async def apply_wifi(self, ssid: str, password: str) -> None:
        self._publish("failed", {"reason": "wifi_auth"})
        await super().apply_wifi(ssid, password)


@pytest.fixture
async def retrying():
    host = RetryingHost(**vars(make_host()))
    client = ProvisioningClient(MemoryLink(host, mtu=23), timeout=5.0)
    yield host, client
    await host.aclose()


async def test_the_old_settings_failing_as_new_ones_arrive_is_not_their_result(retrying):
    _host, client = retrying
    await client.open_session(CODE)
    failed = await client.send_binding(binding(password="wrong-password"), wait=True, timeout_s=5)
    assert failed is not None
    assert failed.reason == "wifi_auth"
    ok = await client.send_binding(binding(), wait=True, timeout_s=5)
    assert ok is not None
    assert ok.state == "mqtt_connected"
    # a watch made before sending (the wizard's) follows the new settings too
    watch = client.watch_status()
    await client.send_wifi("PoolHouse", "right-password")
    assert (await watch.until({"mqtt_connected", "failed"}, 5)).state == "mqtt_connected"
    watch.close()
