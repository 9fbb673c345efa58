"""The `mosquitto` back end against an independently started Mosquitto with dynamic security."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from pooldesk_server.broker.base import BrokerBackend, BrokerRejected, BrokerUnavailable
from pooldesk_server.broker.logins import dashboard_login, device_login
from pooldesk_server.broker.managed import find_dynsec_plugin
from pooldesk_server.broker.mosquitto import BrokerConfigError, ExternalMosquitto
from tests.broker.probe import NOT_AUTHORIZED, REFUSED_SUBSCRIBE, Probe
from tests.support.ports import free_port, wait_for_port
from tests.support.processes import die_with_parent

ADMIN_PASSWORD = "admin-secret-for-tests"


@pytest.fixture
def stock_mosquitto(tmp_path: Path):
    """A Mosquitto set up the way its docs describe (`mosquitto_ctrl dynsec init`), whose default
    ACL access still lets clients receive everything."""
    store = tmp_path / "dynsec.json"
    subprocess.run(
        ["mosquitto_ctrl", "dynsec", "init", str(store), "admin", ADMIN_PASSWORD],
        check=True,
        capture_output=True,
    )
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\nuser root\n"
        f"plugin {find_dynsec_plugin()}\nplugin_opt_config_file {store}\n"
    )
    proc = subprocess.Popen(
        ["mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL, preexec_fn=die_with_parent()
    )
    try:
        wait_for_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(5)


def _env(port: int, **extra: str) -> dict[str, str]:
    return {
        "MQTT_BROKER_URL": f"mqtt://127.0.0.1:{port}",
        "MOSQUITTO_ADMIN_USER": "admin",
        "MOSQUITTO_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "MOSQUITTO_ADMIN_PORT": str(port),
        **extra,
    }


async def test_manages_logins_on_an_existing_broker(stock_mosquitto):
    broker = ExternalMosquitto.from_env(_env(stock_mosquitto))
    assert isinstance(broker, BrokerBackend)
    await broker.start()
    try:
        assert broker.broker_url == f"mqtt://127.0.0.1:{stock_mosquitto}"
        dash, dev = dashboard_login("alice", "s1"), device_login("alice", "ESP-A00001")
        intruder = dashboard_login("bob", "s2")
        await broker.put_logins([dash, dev, intruder])
        assert await broker.list_logins() == {dash.username, dev.username, intruder.username}
        owner, device, thief = (Probe.of(stock_mosquitto, x) for x in (dash, dev, intruder))
        try:
            for p in (owner, device, thief):
                assert await p.connect() == 0
            assert await owner.subscribe("users/alice/#") == [1]
            assert (await thief.subscribe("users/alice/#"))[0] in REFUSED_SUBSCRIBE
            assert await thief.publish("users/alice/devices/esp-a00001/pump/set", "{}") == (
                NOT_AUTHORIZED
            )
            assert await device.publish("users/alice/devices/esp-a00001/status", "online") == 0
            await owner.wait_for("users/alice/devices/esp-a00001/status")
            await broker.delete_login(dev.username)
            assert await device.wait_disconnected(2)
        finally:
            for p in (owner, device, thief):
                p.close()
        results = await broker.client.execute([{"command": "getDefaultACLAccess"}])
        acls = {a["acltype"]: a["allow"] for a in results[0].data["acls"]}
        assert acls["publishClientReceive"] is False  # was True in the stock store
        assert (await broker.health()).ok
    finally:
        await broker.stop()


async def test_missing_settings_and_wrong_admin_password_are_explained(stock_mosquitto):
    with pytest.raises(BrokerConfigError, match="MOSQUITTO_ADMIN_PASSWORD"):
        ExternalMosquitto.from_env({"MQTT_BROKER_URL": "x", "MOSQUITTO_ADMIN_USER": "admin"})
    wrong = ExternalMosquitto.from_env(
        _env(stock_mosquitto, MOSQUITTO_ADMIN_PASSWORD="not-the-password")
    )
    wrong.client.timeout = 2
    try:
        with pytest.raises(BrokerRejected, match="refused the admin login"):
            await wrong.start()
    finally:
        await wrong.stop()


async def test_a_down_broker_raises_unavailable_so_the_change_can_be_retried():
    broker = ExternalMosquitto.from_env(_env(free_port()))
    broker.client.timeout = 1
    try:
        with pytest.raises(BrokerUnavailable, match="no MQTT broker answered"):
            await broker.start()
        with pytest.raises(BrokerUnavailable):
            await broker.put_login(device_login("alice", "ESP-A00001"))
        assert not (await broker.health()).ok
    finally:
        await broker.stop()
    await asyncio.sleep(0)


def test_an_admin_link_in_clear_text_off_this_machine_is_refused(caplog):
    env = {
        "MQTT_BROKER_URL": "mqtts://mqtt.example.net:8883",
        "MOSQUITTO_ADMIN_USER": "admin",
        "MOSQUITTO_ADMIN_PASSWORD": "secret-admin-password",
        "MOSQUITTO_ADMIN_HOST": "mqtt.example.net",
    }
    with pytest.raises(BrokerConfigError, match="MOSQUITTO_ADMIN_CA_FILE"):
        ExternalMosquitto.from_env(env)
    ExternalMosquitto.from_env({**env, "MOSQUITTO_ADMIN_ALLOW_PLAINTEXT": "1"})
    assert "not encrypted" in caplog.text
    ExternalMosquitto.from_env({**env, "MOSQUITTO_ADMIN_HOST": "127.0.0.1"})  # this machine
