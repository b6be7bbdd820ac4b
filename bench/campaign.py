"""What the fuzz and soak campaigns share: a real server, its RSS over time, a raw HTTP/1.1 sender.

* ``Server`` runs ``asterism serve`` (one process) on a built home with settings given as
  environment variables, logs to a file (unbuffered, so a failing request's traceback can be
  cut out of it right after the answer), waits for ``/readyz`` and stops it on exit.
* ``RssSampler`` reads the server's resident set from /proc every ``interval`` seconds.
* ``send`` puts one ``hostile_http.Case`` on the wire exactly as it is (raw target, headers,
  body; chunked when asked) with h11 over an asyncio socket, reading the answer while the body
  is still going out, so an early refusal (413, 429) is seen even when the server stops reading.
  No HTTP client library would send ``/v1/%2e%2e/x`` or a lying boundary untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h11
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the generators live beside the tests

from hostile_http import Case
from uploads_memory import build_home, free_port, rss_kb

__all__ = ["Case", "Outcome", "RssSampler", "Server", "build_home", "machine", "percentile", "rss_kb", "send"]
CHUNK = 64 * 1024


class Server:
    """``asterism serve`` on ``home`` with ``env`` overrides, its output in ``log``."""

    def __init__(self, home: Path, env: dict[str, str], log: Path) -> None:
        self.home, self.log_path, self.port = home, log, free_port()
        self.env = {**os.environ, "ASTERISM_HOME": str(home.resolve()), "PYTHONUNBUFFERED": "1", **env}
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        command = [sys.executable, "-m", "asterism.cli.main", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/readyz", timeout=5).status_code == 200:
                    return self
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited while starting: see {self.log_path}")
            time.sleep(0.5)
        raise SystemExit(f"the server did not become ready in 300 s: see {self.log_path}")

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read(200_000).decode("utf-8", "replace")

    def warm(self) -> None:
        """One of each kind of request before the clock starts (the server loads its models
        before it says ready; this also fills the page cache with the indexes and thumbnails)."""
        import imagegen

        picture = imagegen.jpeg(3, (320, 240))
        ids = self.ids(5)
        asks: list[dict[str, Any]] = [
            {"files": {"image": ("w.jpg", picture, "image/jpeg")}, "data": {"recognise": recognise}}
            for recognise in ("true", "false")
        ]
        asks.append({"json": {"artwork_id": ids[0]}})
        for ask in asks:
            for _ in range(5):  # a loaded machine may answer 503 + Retry-After: not measured yet
                answer = httpx.post(f"{self.base}/v1/recommendations", timeout=300, **ask)
                if answer.status_code != 503:
                    break
                time.sleep(float(answer.headers.get("retry-after", "1")))
            if answer.status_code != 200:
                raise SystemExit(f"warming up: {answer.status_code} {answer.text[:300]}")

    def ids(self, count: int = 100) -> list[int]:
        """Ids of stored works (a search for "a" in titles and names)."""
        answer = httpx.get(f"{self.base}/v1/search", params={"q": "a", "limit": count}, timeout=30)
        return [hit["id"] for hit in answer.json()["results"]]


class RssSampler(threading.Thread):
    """The server's RSS (kB) every ``interval`` seconds, as (seconds since start, kB); the load average too."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []
        self.loads: list[float] = []  # the 1-minute load average, every 5 s
        self.running = True
        self.began = time.monotonic()

    def run(self) -> None:
        next_load = 0.0
        while self.running:
            now = time.monotonic() - self.began
            with contextlib.suppress(OSError):
                self.samples.append((now, rss_kb(self.pid)))
            if now >= next_load:
                self.loads.append(os.getloadavg()[0])
                next_load = now + 5.0
            time.sleep(self.interval)

    def stop(self) -> list[tuple[float, int]]:
        self.running = False
        self.join()
        return self.samples

    @property
    def peak(self) -> int:
        return max((kb for _, kb in self.samples), default=0)


@dataclass
class Outcome:
    status: int | None  # None: no answer (connection refused, reset or closed, or the timeout)
    seconds: float
    head: bytes = b""  # the first bytes of the answer's body
    retry_after: str | None = None
    error: str = ""


async def send(host: str, port: int, case: Case, timeout: float = 30.0) -> Outcome:
    """``case`` on a fresh connection; the answer (status, time to its last byte) or what went wrong.

    Plain non-blocking socket calls, not asyncio streams: a stream reports a failed write (the
    server refused the body and closed) on the read side too, before the answer already received.
    """
    loop = asyncio.get_running_loop()
    conn = h11.Connection(h11.CLIENT)
    headers: list[tuple[bytes, bytes]] = [(b"host", f"{host}:{port}".encode())]
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in case.headers]
    if case.chunked:
        headers.append((b"transfer-encoding", b"chunked"))
    elif case.body or case.method in ("POST", "PUT", "PATCH"):
        headers.append((b"content-length", str(len(case.body)).encode()))
    headers.append((b"connection", b"close"))
    started = time.perf_counter()
    status: int | None = None
    head, retry, error = bytearray(), None, ""
    sock = socket.socket()
    sock.setblocking(False)
    sending: asyncio.Task[None] | None = None
    try:
        async with asyncio.timeout(timeout):
            await loop.sock_connect(sock, (host, port))
            request = h11.Request(method=case.method, target=case.target.encode("latin-1"), headers=headers)

            async def body() -> None:
                with contextlib.suppress(OSError, h11.LocalProtocolError):
                    await loop.sock_sendall(sock, conn.send(request) or b"")
                    for at in range(0, len(case.body), CHUNK):
                        await loop.sock_sendall(
                            sock, conn.send(h11.Data(data=case.body[at : at + CHUNK])) or b""
                        )
                    await loop.sock_sendall(sock, conn.send(h11.EndOfMessage()) or b"")

            sending = asyncio.create_task(body())
            await asyncio.sleep(0)  # the request line goes first
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await loop.sock_recv(sock, CHUNK))
                elif isinstance(event, h11.Response):
                    status = event.status_code
                    retry = dict(event.headers).get(b"retry-after", b"").decode() or None
                elif isinstance(event, h11.Data):
                    head += event.data[: max(0, 2000 - len(head))]
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    break
    except TimeoutError:
        error = f"no complete answer in {timeout:.0f} s"
    except (OSError, h11.RemoteProtocolError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        seconds = time.perf_counter() - started
        if sending is not None:
            sending.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await sending
        sock.close()
    if status is not None and error and not error.startswith("no complete"):
        error = ""  # the answer came; the connection closing under the rest of the body is fine
    if status is None and not error:
        error = "the server closed the connection without an answer"
    return Outcome(status if not error else None, seconds, bytes(head), retry, error)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def machine() -> dict[str, Any]:
    """What the figures were measured on: CPU model and count, load averages at the moment."""
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), "unknown",
    )  # fmt: skip
    return {"cpu": model, "cores": os.cpu_count(), "load": os.getloadavg()}
