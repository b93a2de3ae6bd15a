"""A real HTTP server on 127.0.0.1 for the speech engines' online parts (gTTS's Google,
the piper-voices repository): each route answers from a function; requests are recorded."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    """Without the query string."""
    query: str
    body: bytes


Answer = tuple[int, bytes]
Route = Callable[[Request], Answer]


@dataclass
class FakeHttp:
    url: str
    routes: dict[str, Route]
    requests: list[Request] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        parts = urlsplit(self.path)
        request = Request(self.command, parts.path, parts.query, self.rfile.read(length))
        self.server.fake.requests.append(request)
        route = self.server.fake.routes.get(parts.path)
        status, body = route(request) if route else (404, b"not found")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet in test output
        pass


class _Server(ThreadingHTTPServer):
    fake: FakeHttp


@contextmanager
def fake_http(routes: dict[str, Route]) -> Iterator[FakeHttp]:
    """Serve ``routes`` (path → answer) on a free local port until the block ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = FakeHttp(f"http://127.0.0.1:{server.server_address[1]}", routes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def static(body: bytes, status: int = 200) -> Route:
    return lambda _request: (status, body)
