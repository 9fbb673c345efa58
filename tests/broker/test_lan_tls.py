"""The optional LAN listener: TLS only, with the backend's own CA, same rights as loopback."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest
from cryptography import x509

from pooldesk_server.broker.logins import device_login
from pooldesk_server.broker.managed import LanListener, ManagedMosquitto
from tests.broker.probe import NOT_AUTHORIZED, Probe
from tests.support.ports import free_port


@pytest.fixture
async def lan_broker(data_dir: Path):
    broker = ManagedMosquitto(
        data_dir, lan=LanListener(hostname="localhost", bind="127.0.0.1", port=free_port())
    )
    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


def _tls_probe(broker: ManagedMosquitto, login, ca_file: Path | None) -> Probe:
    probe = Probe.of(broker.lan.port, login)
    if ca_file is None:
        probe.client.tls_set(tls_version=ssl.PROTOCOL_TLS_CLIENT)  # system trust only
    else:
        probe.client.tls_set(ca_certs=str(ca_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
    return probe


async def test_device_connects_over_tls_with_the_ca_it_was_given(lan_broker, data_dir, tmp_path):
    assert lan_broker.lan_url == f"mqtts://localhost:{lan_broker.lan.port}"
    ca_pem = lan_broker.ca_cert_pem
    assert ca_pem
    assert "BEGIN CERTIFICATE" in ca_pem
    assert "PRIVATE KEY" not in ca_pem
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert oct((data_dir / "tls" / "ca-key.pem").stat().st_mode & 0o777) == "0o600"

    login = device_login("alice", "ESP-A00001")
    await lan_broker.put_login(login)
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(ca_pem)
    device = _tls_probe(lan_broker, login, ca_file)
    try:
        assert await device.connect() == 0
        assert await device.publish("users/alice/devices/esp-a00001/status", "online") == 0
        assert await device.publish("users/bob/devices/esp-b00001/status", "x") == NOT_AUTHORIZED
    finally:
        device.close()


async def test_lan_listener_refuses_plain_mqtt_and_unknown_cas(lan_broker):
    login = device_login("alice", "ESP-A00001")
    await lan_broker.put_login(login)
    untrusting = _tls_probe(lan_broker, login, None)
    try:
        assert await untrusting.connect() == -1  # the TLS handshake fails: unknown CA
    finally:
        untrusting.close()
    plain = Probe.of(lan_broker.lan.port, login)
    try:
        assert await plain.connect() != 0  # no CONNACK: the TLS listener hangs up
    finally:
        plain.close()


async def test_certificates_are_reused_across_restarts(data_dir):
    port = free_port()
    first = ManagedMosquitto(data_dir, lan=LanListener("localhost", "127.0.0.1", port))
    await first.start()
    pem = first.ca_cert_pem
    await first.stop()
    second = ManagedMosquitto(data_dir, lan=LanListener("localhost", "127.0.0.1", port))
    await second.start()
    try:
        assert second.ca_cert_pem == pem
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
    finally:
        await second.stop()
