"""A private CA and a server certificate for the managed broker's LAN listener.

The CA's key stays with the backend (0600, never readable by the broker); the server key is given
to the broker's user. Devices receive the CA certificate with their credentials and verify the
broker against it. Certificates are reused across starts; the server certificate is reissued when
the LAN host name changes or it nears expiry.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pooldesk_server.broker.store import write_private

CA_DAYS = 3650
SERVER_DAYS = 825
RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True)
class TlsFiles:
    folder: Path

    @property
    def ca_cert_file(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def ca_key_file(self) -> Path:
        return self.folder / "ca-key.pem"

    @property
    def server_cert_file(self) -> Path:
        return self.folder / "server.pem"

    @property
    def server_key_file(self) -> Path:
        return self.folder / "server-key.pem"

    @property
    def ca_pem(self) -> str:
        return self.ca_cert_file.read_text()

    def grant_server_key(self, uid: int, gid: int) -> None:
        """Let the broker's user read its key (only its key: the CA key stays private)."""
        os.chown(self.server_key_file, uid, gid)


def _san(hostname: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(hostname))
    except ValueError:
        return x509.DNSName(hostname)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _make_ca(files: TlsFiles) -> None:
    key = _new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "PoolDesk local broker CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    write_private(files.ca_key_file, _key_pem(key))
    files.ca_cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _server_is_current(files: TlsFiles, hostname: str) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(files.server_cert_file.read_bytes())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    return _san(hostname) in list(names) and cert.not_valid_after_utc - _now() > RENEW_BEFORE


def _make_server(files: TlsFiles, hostname: str) -> None:
    ca_key = serialization.load_pem_private_key(files.ca_key_file.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(files.ca_cert_file.read_bytes())
    key = _new_key()
    names = {
        _san(hostname),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    }
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(minutes=5))
        .not_valid_after(_now() + dt.timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sorted(names, key=str)), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    )
    write_private(files.server_key_file, _key_pem(key))
    files.server_cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def ensure_tls_files(folder: Path, hostname: str) -> TlsFiles:
    """Create (or reuse) the CA and a server certificate valid for `hostname`."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o711)
    files = TlsFiles(folder)
    if not (files.ca_key_file.exists() and files.ca_cert_file.exists()):
        _make_ca(files)
        files.server_cert_file.unlink(missing_ok=True)
    if not _server_is_current(files, hostname):
        _make_server(files, hostname)
    return files
