"""`voicecore up` over gRPC TLS with a bearer token (issue 9, items 4 and 5): the token
never shows in what `up` prints, nor in any child process's argv or environment (nats-server,
the workers, the sink), and callers reach it with a CA and a token file."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from tests.support import proc
from tests.support.certs import make_pki
from tests.test_up_roles import children


def test_up_serves_tls_and_keeps_the_token_out_of_sight(tmp_path: Path) -> None:
    token = f"grpc-secret-{uuid.uuid4().hex}"
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    pki = make_pki(tmp_path / "pki")
    assert pki.server.cert is not None and pki.server.key is not None
    grpc = f"127.0.0.1:{proc.free_port()}"
    up = proc.voicecore("up", "--data-dir", str(tmp_path / "data"), "--nats-port",
                        str(proc.free_port()), "--grpc-addr", grpc,
                        "--grpc-tls-cert", str(pki.server.cert),
                        "--grpc-tls-key", str(pki.server.key),
                        env={"VOICECORE_GRPC_TOKEN": token})
    with proc.supervised(up) as (_, ready):
        assert token not in ready
        roles = children(up.pid)
        assert len(roles) == 3, roles  # nats-server, the sink, the workers (no orchestrator)
        for pid, argv in roles.items():
            assert token not in argv
            assert token.encode() not in Path(f"/proc/{pid}/environ").read_bytes(), argv
        called = proc.run("exec", "capture_email", "--param", "transcript=ann at example dot com",
                          "--grpc-addr", grpc, "--grpc-tls-ca", str(pki.ca),
                          "--grpc-token-file", str(token_file))
        assert called.returncode == 0, called.stderr
        assert json.loads(called.stdout)["data"]["value"] == "ann@example.com"
        refused = proc.run("exec", "capture_email", "--param", "transcript=x", "--grpc-addr",
                           grpc, "--grpc-tls-ca", str(pki.ca))
        assert "UNAUTHENTICATED" in refused.stderr
        stopped = proc.stop(up)
    assert stopped.returncode == 0, stopped.stderr
    assert token not in stopped.stdout + stopped.stderr
    assert "no orchestrator process: the bridge serves TLS" in stopped.stderr


def test_a_token_on_the_command_line_warns_without_echoing_it(tmp_path: Path) -> None:
    token = f"argv-secret-{uuid.uuid4().hex}"
    done = proc.run("exec", "capture_email", "--param", "transcript=x", "--grpc-addr",
                    f"127.0.0.1:{proc.free_port()}", "--token", token, "--timeout", "1")
    assert done.returncode == 1
    warning, error = done.stderr.splitlines()
    assert warning.startswith("voicecore: warning: a token on the command line is visible")
    assert error.startswith("voicecore: error: UNAVAILABLE")
    assert token not in done.stderr + done.stdout


def test_a_token_given_twice_or_an_empty_token_file_is_one_line(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("\n")
    empty = proc.run("exec", "capture_email", "--grpc-token-file", str(token_file))
    assert empty.returncode == 1
    assert empty.stderr == (f"voicecore: error: --grpc-token-file {token_file}: must hold "
                            "one token (one line, no spaces)\n")
    token_file.write_text("t0ken")
    both = proc.run("exec", "capture_email", "--grpc-token-file", str(token_file),
                    env={"VOICECORE_GRPC_TOKEN": "t0ken"})
    assert both.returncode == 1
    assert both.stderr.startswith("voicecore: error: give the gRPC token one way")
    assert len(both.stderr.splitlines()) == 1
