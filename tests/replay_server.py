"""A real HTTP server on 127.0.0.1 that replays recorded API responses and injects faults.

Tests register routes (an exact path, or a prefix ending in ``*``) whose
handler gets the query parameters and the path and returns (status, headers,
body); a route given a plain value serves it as JSON. Faults
queued on a path are served first, one per request: an HTTP status (with an
optional Retry-After), a slow response, or a malformed body. Every request is
recorded with its path, query, headers and arrival time.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Response = tuple[int, dict[str, str], bytes]
Handler = Callable[[dict[str, str], str], Response]


@dataclass
class Fault:
    status: int | None = None
    retry_after: str | None = None
    delay: float = 0.0
    malformed: bool = False


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float


def json_response(body: Any, status: int = 200) -> Response:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


@dataclass
class Replay:
    routes: dict[str, Handler] = field(default_factory=dict)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def route(self, path: str, handler: Handler | Any) -> None:
        self.routes[path] = (
            handler if callable(handler) else (lambda _q, _p, body=handler: json_response(body))
        )

    def fail(self, path: str, *faults: Fault) -> None:
        self.faults.setdefault(path, []).extend(faults)

    def seen(self, prefix: str) -> list[Seen]:
        return [r for r in self.requests if r.path.startswith(prefix)]

    def respond(self, path: str, query: dict[str, str]) -> Response | Fault:
        with self.lock:
            queued = self.faults.get(path)
            if queued:
                return queued.pop(0)
        return self.answer(path, query)

    def answer(self, path: str, query: dict[str, str]) -> Response:
        """The recorded response, without faults."""
        handler = self.routes.get(path)
        if handler is None:
            for pattern, candidate in self.routes.items():
                if pattern.endswith("*") and path.startswith(pattern[:-1]):
                    handler = candidate
                    break
        if handler is None:
            return json_response({"message": "Not Found"}, 404)
        try:
            return handler(query, path)
        except Exception as exc:  # a broken test route shows up as a 500 naming the error
            return json_response({"error": f"replay handler failed: {exc!r}"}, 500)


def _handler_class(replay: Replay) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            replay.requests.append(Seen(parts.path, query, dict(self.headers.items()), time.monotonic()))
            result = replay.respond(parts.path, query)
            if isinstance(result, Fault):
                if result.delay:
                    time.sleep(result.delay)
                if result.status is not None:
                    headers = {"Retry-After": result.retry_after} if result.retry_after else {}
                    self._send(result.status, headers, b'{"error": "injected"}')
                    return
                if result.malformed:
                    self._send(200, {"Content-Type": "application/json"}, b'{"data": [ {"id": 1,')
                    return
                result = replay.answer(parts.path, query)  # slow, then the real answer
            self._send(*result)

        def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer

        def log_message(self, format: str, *args: Any) -> None:
            return

    return RequestHandler


def serve() -> Iterator[Replay]:
    """Start a replay server in a thread (use as a pytest fixture body)."""
    replay = Replay()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(replay))
    server.daemon_threads = True
    replay.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield replay
    finally:
        server.shutdown()
        server.server_close()
