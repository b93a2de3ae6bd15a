"""gRPC over TLS (issue 9, item 4): real grpc.aio bridge, real certificates, real grpcurl.

A plaintext client, or one that trusts another CA, cannot call a TLS bridge; one that
trusts its CA can. With mutual TLS a client without a certificate is refused at the
handshake and one with a certificate from the client CA is served. The bearer token
works over TLS as it does alone.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bridge.client import CallRejected, CoreUnavailable, VoiceCoreClient
from bridge.server import Bridge, BridgeOptions, serve_bridge
from core.bus import Bus
from core.config import TlsFiles
from core.errors import ConfigError
from core.worker import Worker
from tests.bridge.conftest import OPTIONS
from tests.support import proc
from tests.support.certs import Pki, make_pki

BIN = Path(sys.executable).parent
TOKEN = "tls-test-token-5d1c"
EMAIL = {"transcript": "john at gmail dot com"}


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path / "pki")


@asynccontextmanager
async def tls_bridge(bus: Bus, tls: TlsFiles, token: str | None = None
                     ) -> AsyncIterator[Bridge]:
    options = BridgeOptions(token=token, tls=tls, default_timeout_s=OPTIONS.default_timeout_s,
                            grace_s=OPTIONS.grace_s)
    async with serve_bridge(bus, "127.0.0.1:0", options) as running:
        yield running


async def health_of(address: str, tls: TlsFiles | None) -> str:
    async with VoiceCoreClient(address, tls=tls) as client:
        return str((await client.health(timeout_s=10.0)).status)


async def test_a_plaintext_client_cannot_call_a_tls_bridge(bus: Bus, pki: Pki) -> None:
    async with tls_bridge(bus, pki.server_tls()) as bridge:
        with pytest.raises(CoreUnavailable):
            await health_of(bridge.address, None)


async def test_a_client_trusting_the_ca_is_served_and_another_ca_is_refused(
        bus: Bus, pki: Pki) -> None:
    async with tls_bridge(bus, pki.server_tls()) as bridge:
        assert await health_of(bridge.address, pki.client_tls()) != ""
        with pytest.raises(CoreUnavailable):
            await health_of(bridge.address, pki.client_tls(ca=pki.other_ca))


async def test_the_token_works_over_tls(bus: Bus, pki: Pki, email_worker: Worker) -> None:
    async with tls_bridge(bus, pki.server_tls(), token=TOKEN) as bridge:
        async with VoiceCoreClient(bridge.address, tls=pki.client_tls(), token=TOKEN) as core:
            result = await core.execute("capture_email", EMAIL, conversation_id="tls-1")
        assert result.success and result.data["value"] == "john@gmail.com"
        async with VoiceCoreClient(bridge.address, tls=pki.client_tls()) as anonymous:
            with pytest.raises(CallRejected, match="UNAUTHENTICATED"):
                await anonymous.execute("capture_email", EMAIL, conversation_id="tls-2")


async def test_mutual_tls_refuses_a_client_without_a_certificate(bus: Bus, pki: Pki) -> None:
    async with tls_bridge(bus, pki.server_tls(mutual=True)) as bridge:
        with pytest.raises(CoreUnavailable):
            await health_of(bridge.address, pki.client_tls())
        assert await health_of(bridge.address, pki.client_tls(with_cert=True)) != ""


async def grpcurl(*args: str) -> tuple[int, str, str]:
    child = await asyncio.create_subprocess_exec(
        str(BIN / "grpcurl"), *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await child.communicate()
    assert child.returncode is not None
    return child.returncode, out.decode(), err.decode()


async def test_grpcurl_calls_a_tls_bridge_with_cacert(bus: Bus, pki: Pki) -> None:
    async with tls_bridge(bus, pki.server_tls(), token=TOKEN) as bridge:
        code, out, err = await grpcurl("-cacert", str(pki.ca), bridge.address, "list")
        assert code == 0, err
        assert "voicecore.v1.VoiceCore" in out.split()
        code, out, err = await grpcurl(
            "-cacert", str(pki.ca), "-H", f"authorization: Bearer {TOKEN}", bridge.address,
            "voicecore.v1.VoiceCore/HealthCheck")
        assert code == 0, err
        assert json.loads(out)["components"]
        code, _, err = await grpcurl("-plaintext", bridge.address, "list")
        assert code != 0


async def test_grpcurl_with_a_client_certificate_passes_mutual_tls(bus: Bus, pki: Pki) -> None:
    async with tls_bridge(bus, pki.server_tls(mutual=True)) as bridge:
        code, _, _ = await grpcurl("-cacert", str(pki.ca), bridge.address, "list")
        assert code != 0
        assert pki.client.cert is not None and pki.client.key is not None
        code, out, err = await grpcurl("-cacert", str(pki.ca), "-cert", str(pki.client.cert),
                                       "-key", str(pki.client.key), bridge.address, "list")
        assert code == 0, err
        assert "voicecore.v1.VoiceCore" in out.split()


@pytest.mark.parametrize(("files", "message"), [
    (TlsFiles(cert=Path("/nonexistent/server.pem"), key=Path("/nonexistent/server.key")),
     "--grpc-tls-key /nonexistent/server.key: No such file or directory"),
    (TlsFiles(cert=Path("/nonexistent/server.pem")),
     "--grpc-tls-cert and --grpc-tls-key go together"),
])
async def test_unusable_tls_files_are_one_line_before_listening(
        bus: Bus, files: TlsFiles, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        async with tls_bridge(bus, files):
            pass


async def test_a_key_of_another_certificate_or_a_ca_that_is_none_is_refused(
        bus: Bus, pki: Pki) -> None:
    mismatched = TlsFiles(cert=pki.server.cert, key=pki.client.key)
    with pytest.raises(ConfigError, match=r"not a certificate and its unencrypted private key "
                       r"\(KEY_VALUES_MISMATCH\)"):
        async with tls_bridge(bus, mismatched):
            pass
    assert pki.server.key is not None
    not_a_ca = TlsFiles(cert=pki.server.cert, key=pki.server.key, ca=pki.server.key)
    with pytest.raises(ConfigError, match=r"--grpc-tls-client-ca .*: not CA certificates"):
        async with tls_bridge(bus, not_a_ca):
            pass


async def voicecore(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """The real CLI in a child process (the bridge under test runs on this event loop)."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voicecore", *args, cwd=proc.ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await child.communicate()
    assert child.returncode is not None
    return child.returncode, out.decode(), err.decode()


def exec_args(address: str, *extra: str) -> Sequence[str]:
    return ("exec", "capture_email", "--param", "transcript=john at gmail dot com",
            "--grpc-addr", address, *extra)


async def test_voicecore_exec_over_mutual_tls_with_a_token_file(
        bus: Bus, pki: Pki, email_worker: Worker, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    assert pki.client.cert is not None and pki.client.key is not None
    async with tls_bridge(bus, pki.server_tls(mutual=True), token=TOKEN) as bridge:
        code, out, err = await voicecore(*exec_args(
            bridge.address, "--grpc-tls-ca", str(pki.ca), "--grpc-tls-cert",
            str(pki.client.cert), "--grpc-tls-key", str(pki.client.key),
            "--grpc-token-file", str(token_file)))
        assert code == 0, err
        assert json.loads(out)["data"]["value"] == "john@gmail.com"
        code, out, err = await voicecore(*exec_args(bridge.address))
        assert code == 1 and err.startswith("voicecore: error: UNAVAILABLE"), err
        assert len(err.splitlines()) == 1
