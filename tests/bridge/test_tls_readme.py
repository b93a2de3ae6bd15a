"""README's "TLS" example, run as written: `voicecore up` with TLS, mutual TLS and a token
file, then `voicecore exec` and grpcurl calling it (issue 9, item 4).

Its lines are an indented block, not a fenced one: tests/test_readme.py runs every fenced
block against its one plaintext `voicecore up`, which these lines cannot share. Here they
run in a directory holding the files they name (generated certificates, a token file),
with free ports added (`--data-dir`, `--nats-port`, `--grpc-addr`) or swapped in.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from tests.support import proc
from tests.support.certs import make_pki

README = proc.ROOT / "README.md"
BIN = Path(sys.executable).parent
DOC_GRPC = "127.0.0.1:50051"


def tls_example() -> list[str]:
    """The indented command lines of README's ``### TLS`` section."""
    section = README.read_text().split("\n### TLS\n", 1)[1].split("\n#", 1)[0]
    return [line.strip() for line in section.splitlines() if line.startswith("    ")]


def test_the_readme_tls_example_works_as_written(tmp_path: Path) -> None:
    up_line, exec_line, grpcurl_line = tls_example()
    make_pki(tmp_path)  # ca.pem, server.pem/.key, client.pem/.key, as the README names them
    (tmp_path / "token").write_text("readme-token\n")
    (tmp_path / "token").chmod(0o600)
    grpc = f"127.0.0.1:{proc.free_port()}"
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
    extra = shlex.join(["--data-dir", str(tmp_path / "data"), "--nats-port",
                        str(proc.free_port()), "--grpc-addr", grpc])
    up = subprocess.Popen(["bash", "-c", f"exec {up_line} {extra}"], cwd=tmp_path, env=env,
                          text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with proc.supervised(up) as (_, ready):
        assert f"grpc {grpc}" in ready
        called = subprocess.run(["bash", "-c", f"{exec_line} --grpc-addr {grpc}"], cwd=tmp_path,
                                env=env, text=True, capture_output=True, timeout=60, check=False)
        assert called.returncode == 0, called.stderr
        assert json.loads(called.stdout)["data"]["value"] == "john@gmail.com"
        probed = subprocess.run(["bash", "-c", grpcurl_line.replace(DOC_GRPC, grpc)],
                                cwd=tmp_path, env=env, text=True, capture_output=True,
                                timeout=60, check=False)
        assert probed.returncode == 0, probed.stderr
        assert json.loads(probed.stdout)["status"] == "SERVING"
        stopped = proc.stop(up)
    assert stopped.returncode == 0, stopped.stderr
    assert "readme-token" not in stopped.stdout + stopped.stderr
