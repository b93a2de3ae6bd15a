"""Test certificates made with ``cryptography``: a CA, a server certificate for
127.0.0.1/localhost, and a client certificate, written as PEM files."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from core.config import TlsFiles

Key = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Pki:
    """PEM files: ``ca`` signed ``server`` and ``client``; ``other_ca`` signed nothing here."""

    ca: Path
    other_ca: Path
    server: TlsFiles
    client: TlsFiles

    def server_tls(self, *, mutual: bool = False) -> TlsFiles:
        return TlsFiles(cert=self.server.cert, key=self.server.key,
                        ca=self.ca if mutual else None)

    def client_tls(self, *, with_cert: bool = False, ca: Path | None = None) -> TlsFiles:
        if with_cert:
            return TlsFiles(cert=self.client.cert, key=self.client.key, ca=ca or self.ca)
        return TlsFiles(ca=ca or self.ca)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: x509.Name, key: Key) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1)))


def _new_key() -> Key:
    return ec.generate_private_key(ec.SECP256R1())


def _write(path: Path, cert: x509.Certificate, key: Key | None = None) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        path.with_suffix(".key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        path.with_suffix(".key").chmod(0o600)


def _ca(common_name: str) -> tuple[x509.Certificate, Key]:
    key = _new_key()
    cert = (_builder(common_name, _name(common_name), key)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return cert, key


def _leaf(common_name: str, ca: tuple[x509.Certificate, Key], *,
          server: bool) -> tuple[x509.Certificate, Key]:
    key = _new_key()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (_builder(common_name, ca[0].subject, key)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
    return builder.sign(ca[1], hashes.SHA256()), key


def make_pki(directory: Path) -> Pki:
    directory.mkdir(parents=True, exist_ok=True)
    ca = _ca("voicecore test CA")
    other = _ca("some other CA")
    server = _leaf("voicecore bridge", ca, server=True)
    client = _leaf("voicecore caller", ca, server=False)
    _write(directory / "ca.pem", ca[0])
    _write(directory / "other-ca.pem", other[0])
    _write(directory / "server.pem", *server)
    _write(directory / "client.pem", *client)
    return Pki(ca=directory / "ca.pem", other_ca=directory / "other-ca.pem",
               server=TlsFiles(cert=directory / "server.pem", key=directory / "server.key"),
               client=TlsFiles(cert=directory / "client.pem", key=directory / "client.key"))
