"""mqtts://: the device verifies the broker's certificate against the CA in its binding."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pooldesk_firmware.sim.loader import FirmwareImage
from pooldesk_firmware.sim.runner import SimulatedController
from tests.firmware.conftest import Dashboard, make_binding
from tests.support.ports import free_port, wait_for_port


def make_ca(name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_server(ca_key, ca_cert) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture
def tls_broker(tmp_path: Path):
    """-> (tls port, plain port, CA certificate) of a Mosquitto with a TLS listener."""
    ca_key, ca_cert = make_ca("PoolDesk test CA")
    srv_key, srv_cert = make_server(ca_key, ca_cert)
    (tmp_path / "ca.pem").write_text(pem(ca_cert))
    (tmp_path / "server.pem").write_text(pem(srv_cert))
    (tmp_path / "server.key").write_bytes(
        srv_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(tmp_path / "server.key", 0o644)
    tls_port, plain_port = free_port(), free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"per_listener_settings false\nallow_anonymous true\nuser root\n"
        f"listener {plain_port} 127.0.0.1\n"
        f"listener {tls_port} 127.0.0.1\ncafile {tmp_path / 'ca.pem'}\n"
        f"certfile {tmp_path / 'server.pem'}\nkeyfile {tmp_path / 'server.key'}\n"
    )
    proc = subprocess.Popen(
        ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(tls_port)
        yield tls_port, plain_port, ca_cert
    finally:
        proc.terminate()
        proc.wait(5)


async def test_mqtts_with_the_binding_ca_and_refusal_of_a_foreign_ca(tmp_path: Path, tls_broker):
    tls_port, plain_port, ca_cert = tls_broker
    url = f"mqtts://127.0.0.1:{tls_port}"
    dashboard = Dashboard(plain_port)
    try:
        async with SimulatedController(tmp_path / "flash") as sim:
            _, foreign = make_ca("Someone else")
            await sim.controller.apply_binding(
                make_binding(tls_port, broker_url=url, ca_cert=pem(foreign))
            )
            await sim.wait_until(lambda: sim.status[0] == "failed")
            assert sim.status[1]["reason"] == "broker_unreachable"
            assert "CERTIFICATE_VERIFY_FAILED" in sim.status[1]["message"]

            await sim.controller.apply_binding(
                make_binding(tls_port, broker_url=url, ca_cert=pem(ca_cert))
            )
            await sim.wait_until(lambda: sim.online)
            dashboard.command("pump/set", {"cmd_id": "TLS1", "on": True})
            await dashboard.wait_state(lambda s: s["cmd_id"] == "TLS1")
            assert sim.relay_on
    finally:
        dashboard.close()


def test_mqtts_without_a_ca_is_refused_before_storing():
    fw_binding = FirmwareImage().module("fw_binding")
    with pytest.raises(ValueError, match="ca_cert"):
        fw_binding.validate(make_binding(8883, broker_url="mqtts://broker.example:8883"))
