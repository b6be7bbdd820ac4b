"""A local OpenAI-compatible chat completions server, so prose tests run offline against real HTTP.

``POST /v1/chat/completions`` answers as the OpenAI Chat Completions API does:
``{"choices": [{"index": 0, "message": {"role": "assistant", "content": ...}}]}``,
or, when the request says ``"stream": true``, server-sent events ``data: {chunk}``
with ``choices[0].delta.content`` pieces, ended by ``data: [DONE]``.

``mode`` decides the reply: ``echo`` (a sentence made of the facts in the prompt:
grounded), ``text`` (``ChatServer.text`` as given), ``nonsense`` (names an artist,
a city, a date, colours and an object no reasons hold), ``slow`` (``echo`` after
``delay`` seconds), ``error`` (HTTP 500). Every request is counted and kept.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NONSENSE = "Both were painted by Rembrandt in Amsterdam in 1642, with ultramarine skies and a violin."


def echo(body: dict[str, Any]) -> str:
    """A grounded sentence: the reasons of the prompt, verbatim."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    reasons = [line.split(": ", 1)[1] for line in user.splitlines() if line.startswith("- ")]
    return "They share this: " + "; ".join(reasons) + "."


class ChatServer:
    def __init__(self) -> None:
        self.mode = "echo"
        self.text = ""
        self.delay = 3.0
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(size))
                with server._lock:
                    server.requests.append(
                        {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                    )
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": "not found"}})
                    return
                mode = server.mode
                if mode == "error":
                    self._send(500, {"error": {"message": "the model crashed", "type": "server_error"}})
                    return
                if mode == "slow":
                    time.sleep(server.delay)
                text = {"text": server.text, "nonsense": NONSENSE}.get(mode) or echo(body)
                if body.get("stream"):
                    self._stream(body["model"], text)
                else:
                    self._send(200, {
                        "id": "chatcmpl-1", "object": "chat.completion", "created": int(time.time()),
                        "model": body["model"],
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                     "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    })  # fmt: skip

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, model: str, text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()  # HTTP/1.0: the stream ends when the connection closes
                pieces = [{"role": "assistant", "content": ""}] + [
                    {"content": piece} for piece in re.findall(r"\S+\s*", text)
                ]
                for delta in pieces:
                    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": model,
                             "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}  # fmt: skip
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b": keep-alive comment\n\n")
                end = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": model,
                       "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}  # fmt: skip
                self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def __enter__(self) -> ChatServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
