"""A fake Hugging Face hub on 127.0.0.1: one model repository, answered the way
huggingface_hub's ``snapshot_download`` asks (repository info, then each file's HEAD and
GET under ``resolve/<revision>/``). Requests are recorded."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class _Hub(ThreadingHTTPServer):
    repo: str
    files: dict[str, bytes]
    requests: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: _Hub

    def log_message(self, *_: object) -> None:  # quiet: the test reads .requests
        pass

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, *, body: bool) -> None:
        hub = self.server
        path = self.path.split("?")[0]
        hub.requests.append(f"{self.command} {path}")
        if path.startswith(f"/api/models/{hub.repo}/revision/"):
            siblings = [{"rfilename": name} for name in hub.files]
            self._send(json.dumps({"id": hub.repo, "sha": COMMIT, "siblings": siblings}
                                  ).encode(), body, {"Content-Type": "application/json"})
            return
        prefix = f"/{hub.repo}/resolve/"
        name = path.removeprefix(prefix).split("/", 1)[-1] if path.startswith(prefix) else ""
        if name not in hub.files:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = hub.files[name]
        self._send(data, body, {"X-Repo-Commit": COMMIT,
                                "ETag": f'"{hashlib.sha256(data).hexdigest()}"'})

    def _send(self, data: bytes, body: bool, headers: dict[str, str]) -> None:
        self.send_response(200)
        for key, value in {**headers, "Content-Length": str(len(data))}.items():
            self.send_header(key, value)
        self.end_headers()
        if body:
            self.wfile.write(data)


@contextmanager
def fake_hub(repo: str, files: dict[str, bytes]) -> Iterator[_Hub]:
    """The hub at ``http://127.0.0.1:<port>`` (``hub.server_port``) serving ``repo``."""
    hub = _Hub(("127.0.0.1", 0), _Handler)
    hub.repo, hub.files, hub.requests = repo, files, []
    thread = threading.Thread(target=hub.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        hub.shutdown()
        hub.server_close()
