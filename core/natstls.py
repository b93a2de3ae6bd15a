"""TLS for the embedded nats-server (``voicecore up --nats-tls``): a CA made once per data
directory, a server certificate for the loopback names, and one client certificate that
voicecore's processes present (the server verifies it: mutual TLS).

Kept in ``<data-dir>/nats/tls/`` (directory 0700, keys 0600) and reused by every later
start and every command, as the credentials are (core/natsauth.py).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from core.natsauth import TLS_CA, TLS_CLIENT_CERT, TLS_CLIENT_KEY, tls_dir, write_private

_VALID_DAYS = 3650
"""Ten years: a local CA that nobody rotates by hand should not expire under a deployment."""


@dataclass(frozen=True)
class TlsFiles:
    folder: Path

    @property
    def ca(self) -> Path:
        return self.folder / TLS_CA

    @property
    def server_cert(self) -> Path:
        return self.folder / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.folder / "server-key.pem"

    @property
    def client_cert(self) -> Path:
        return self.folder / TLS_CLIENT_CERT

    @property
    def client_key(self) -> Path:
        return self.folder / TLS_CLIENT_KEY

    def exist(self) -> bool:
        return all(p.exists() for p in (self.ca, self.server_cert, self.server_key,
                                        self.client_cert, self.client_key))


def tls_files(data_dir: Path) -> TlsFiles:
    return TlsFiles(tls_dir(data_dir))


def ensure_tls(data_dir: Path, host: str) -> TlsFiles:
    """The data directory's CA and certificates, made the first time."""
    files = tls_files(data_dir)
    if files.exist():
        return files
    files.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "voicecore local NATS CA")])
    ca = (_builder(ca_name, ca_name, ca_key.public_key())
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    names: list[x509.GeneralName] = [x509.DNSName("localhost"),
                                      x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    try:
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    _issue(files.server_cert, files.server_key, "voicecore nats-server", ca, ca_key,
           ExtendedKeyUsageOID.SERVER_AUTH, x509.SubjectAlternativeName(names))
    _issue(files.client_cert, files.client_key, "voicecore client", ca, ca_key,
           ExtendedKeyUsageOID.CLIENT_AUTH, None)
    write_private(files.ca, ca.public_bytes(serialization.Encoding.PEM).decode())
    return files


def _builder(subject: x509.Name, issuer: x509.Name,
             key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
            .public_key(key).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=_VALID_DAYS)))


def _issue(cert_path: Path, key_path: Path, name: str, ca: x509.Certificate,
           ca_key: ec.EllipticCurvePrivateKey, usage: x509.ObjectIdentifier,
           names: x509.SubjectAlternativeName | None) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (_builder(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]),
                        ca.subject, key.public_key())
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
    if names is not None:
        builder = builder.add_extension(names, critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    write_private(key_path, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode())
    write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM).decode())


def server_block(files: TlsFiles) -> str:
    """The server configuration's ``tls`` block: TLS required, client certificates verified."""
    def quoted(path: Path) -> str:
        return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'

    return (f"tls {{\n  cert_file: {quoted(files.server_cert)}\n"
            f"  key_file: {quoted(files.server_key)}\n  ca_file: {quoted(files.ca)}\n"
            "  verify: true\n  timeout: 5\n}\n")
