"""The CA certificate of a binding is checked without decoding it (no DER in RAM at binding
time), as strictly as the decoding would be, and still decodes to the same DER for TLS."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pooldesk_firmware.sim.loader import FirmwareImage

_firmware = FirmwareImage()  # the firmware's own modules, apart from this process's
fw_binding = _firmware.module("fw_binding")


def real_ca() -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PoolDesk test CA")])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )


def test_a_real_certificate_passes_and_decodes_to_its_der():
    cert = real_ca()
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    fw_binding.check_pem(pem)
    fw_binding.check_pem(pem.replace("\n", "\r\n"))
    assert fw_binding.pem_to_der(pem) == cert.public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize(
    "body",
    ["QUJD*REVG", "QUJDREV", "QU=JDREVG", "QUJD====", "", "QUJDREVG\u00e9\u00e9\u00e9\u00e9"],
    ids=["bad-char", "length", "pad-inside", "too-much-pad", "empty", "non-ascii"],
)
def test_anything_but_base64_is_refused_naming_the_field(body: str):
    pem = f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"
    with pytest.raises(fw_binding.BindingError, match="not valid base64") as err:
        fw_binding.check_pem(pem)
    assert err.value.field == "ca_cert"


def test_no_pem_markers_is_refused():
    with pytest.raises(fw_binding.BindingError, match="must be a PEM certificate"):
        fw_binding.check_pem("QUJDREVG")
