"""TLS on gRPC: the bridge's server credentials (optionally mutual TLS) and callers' channels.

Both ends take PEM files (:class:`core.config.TlsFiles`), read when the server starts
or the channel opens. A file that is missing, unreadable or not PEM is one
:class:`~core.errors.ConfigError` line naming its flag, before anything listens.

* Bridge: ``cert`` + ``key`` serve TLS; with ``ca`` (``--grpc-tls-client-ca``) every
  client must present a certificate signed by it (mutual TLS), else the handshake fails.
* Caller: ``ca`` (``--grpc-tls-ca``) is what the bridge's certificate must chain to
  (``None``: the system's roots); ``cert`` + ``key`` its own certificate, for mutual TLS.

The bearer token (``bridge.server``) is independent: it works alone or over TLS.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import grpc

from core.config import TlsFiles
from core.errors import ConfigError


@dataclass(frozen=True)
class _Flags:
    """The command-line flag of each file, for error messages."""

    cert: str
    key: str
    ca: str


SERVER_FLAGS = _Flags("--grpc-tls-cert", "--grpc-tls-key", "--grpc-tls-client-ca")
CLIENT_FLAGS = _Flags("--grpc-tls-cert", "--grpc-tls-key", "--grpc-tls-ca")


def read_pem(path: Path, flag: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: {exc.strerror or exc}") from exc
    if b"-----BEGIN " not in data:
        raise ConfigError(f"{flag} {path}: not a PEM file (no -----BEGIN line)")
    return data


def _ca(path: Path | None, flag: str) -> bytes | None:
    """The CA certificates of ``path`` (``None`` when not given), checked to be some."""
    if path is None:
        return None
    pem = read_pem(path, flag)
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
    except ssl.SSLError as exc:
        raise ConfigError(f"{flag} {path}: not CA certificates ({exc.reason or exc})") from exc
    return pem


def _pair(files: TlsFiles, flags: _Flags) -> tuple[bytes, bytes] | None:
    """(key, certificate chain), or ``None`` when neither is given."""
    if files.cert is None and files.key is None:
        return None
    if files.cert is None or files.key is None:
        raise ConfigError(f"{flags.cert} and {flags.key} go together: give both")
    pair = read_pem(files.key, flags.key), read_pem(files.cert, flags.cert)
    _check_pair(files.cert, files.key, flags)
    return pair


def _check_pair(cert: Path, key: Path, flags: _Flags) -> None:
    """That ``key`` is ``cert``'s private key, both valid, checked with the ``ssl`` module:
    gRPC would only fail to listen, or to connect, with lines of its own on stderr. An
    encrypted key is refused (``password=b""``) instead of prompting for its password."""
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(cert, key, password=b"")
    except ssl.SSLError as exc:
        raise ConfigError(f"{flags.cert} {cert} and {flags.key} {key}: not a certificate and "
                          f"its unencrypted private key ({exc.reason or exc})") from exc


def server_credentials(files: TlsFiles) -> grpc.ServerCredentials:
    pair = _pair(files, SERVER_FLAGS)
    if pair is None:
        raise ConfigError(f"gRPC TLS needs {SERVER_FLAGS.cert} and {SERVER_FLAGS.key}")
    client_ca = _ca(files.ca, SERVER_FLAGS.ca)
    return grpc.ssl_server_credentials(
        [pair], root_certificates=client_ca, require_client_auth=client_ca is not None)


def client_credentials(files: TlsFiles) -> grpc.ChannelCredentials:
    pair = _pair(files, CLIENT_FLAGS)
    key, chain = pair if pair is not None else (None, None)
    return grpc.ssl_channel_credentials(root_certificates=_ca(files.ca, CLIENT_FLAGS.ca),
                                        private_key=key, certificate_chain=chain)


def open_channel(target: str, tls: TlsFiles | None = None) -> grpc.aio.Channel:
    """A channel to the bridge at ``target``: TLS with ``tls``, else plaintext."""
    if tls is None:
        return grpc.aio.insecure_channel(target)
    return grpc.aio.secure_channel(target, client_credentials(tls))


def listen(server: grpc.aio.Server, addr: str,
           credentials: grpc.ServerCredentials | None) -> int:
    """Add ``addr`` to ``server`` (TLS with ``credentials``); the bound port, 0 when it
    could not bind (taken since ``core.config.check_listen_address`` looked)."""
    try:
        if credentials is None:
            return int(server.add_insecure_port(addr))
        return int(server.add_secure_port(addr, credentials))
    except RuntimeError:
        return 0
