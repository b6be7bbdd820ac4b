"""Per-client rate limits and a bound on concurrent uploads, kept on ``app.state`` (no globals).

Two defences against a client (or many) exhausting one server process:

* **A token bucket per client** for uploads and for study votes: ``rate`` tokens a
  minute refill a bucket holding at most ``burst``; each request takes one or is
  refused with 429 and ``Retry-After`` (whole seconds until the next token). The
  client is the peer address, or with ``api.trust_forwarded`` the first
  ``X-Forwarded-For`` hop, which is only honest behind a proxy that overwrites that
  header. IPv6 clients share a bucket per /64, since one host is routinely handed a
  whole /64. The table keeps at most ``api.rate_clients`` buckets and forgets the
  least recently seen first; a forgotten client starts again with a full bucket,
  the state waiting would have given it anyway.
* **Upload slots**: at most ``api.upload_slots`` uploads (default ``api.threads``)
  are read, decoded and answered at once. The slot is taken *before* the body is
  read, so a waiting upload holds no body in memory (uvicorn stops reading its
  socket after 64 KB); after ``api.upload_wait`` seconds it is refused with 503 and
  ``Retry-After``. The bytes uploads hold in a process are therefore about
  ``slots × (2 × upload_max_bytes + the decode's working set)``, plus ~64 KB per
  waiting connection, however many arrive at once: the body once as received and once
  as bytes, and the decoded pixels (JPEGs decode drafted near the upload size; a PNG,
  WebP or TIFF whole, so at most ~4 bytes × ``upload_max_decoded_pixels``). With the
  defaults (2 slots, 20 MB, 16 MP) that is ~80 MB of bodies and ~130 MB of pixels
  (``bench/uploads_memory.py`` and ``bench/fuzz.py`` measure it).

Both are per process: ``asterism serve --workers N`` multiplies them by N.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
from fastapi import HTTPException, Request

from asterism.config import ApiSettings


class TokenBuckets:
    """Token buckets by client key, at most ``max_clients`` of them (least recently seen forgotten)."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        max_clients: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second = per_minute / 60.0
        self.burst = float(max(1, burst))
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, when)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.per_second > 0

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> float:
        """Take one token for ``key``: 0.0 when granted, else the seconds until one is due."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.per_second)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.per_second
            self._buckets[key] = (tokens - 1.0 if wait == 0.0 else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait


class Limits:
    """The rate limits and the upload slots of one app, built from its settings."""

    def __init__(self, api: ApiSettings) -> None:
        self.trust_forwarded = api.trust_forwarded
        self.uploads = TokenBuckets(api.upload_rate, api.upload_burst, api.rate_clients)
        self.votes = TokenBuckets(api.vote_rate, api.vote_burst, api.rate_clients)
        self.slots_total = api.upload_slots or api.threads
        # Exposed so that tests (and an operator's debugger) can see or hold the slots.
        self.upload_slots = anyio.Semaphore(self.slots_total)
        self.upload_wait = api.upload_wait

    def client(self, request: Request) -> str:
        """The key a client's requests are counted under (see the module docstring)."""
        peer = request.client.host if request.client else ""
        if self.trust_forwarded:
            first = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
            if _address(first) is not None:
                peer = first
        address = _address(peer)
        if address is None:
            return peer[:64] or "unknown"
        if address.version == 6:
            return str(ipaddress.ip_network(f"{address}/64", strict=False))
        return str(address)

    def check(self, buckets: TokenBuckets, request: Request, what: str) -> None:
        """Take a token for this request's client, or refuse it with 429 and ``Retry-After``."""
        wait = buckets.take(self.client(request))
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise HTTPException(
                429,
                f"too many {what} from this address: at most {buckets.per_second * 60:g} a minute "
                f"(bursts of {buckets.burst:g}); try again in {seconds} s",
                headers={"Retry-After": str(seconds)},
            )

    @asynccontextmanager
    async def upload_slot(self) -> AsyncIterator[None]:
        """Hold one of the upload slots for the body's reading and its answer, or refuse with 503."""
        acquired = False
        try:
            self.upload_slots.acquire_nowait()
            acquired = True
        except anyio.WouldBlock:
            with anyio.move_on_after(self.upload_wait):  # the deadline covers the wait only
                await self.upload_slots.acquire()
                acquired = True
        if not acquired:
            seconds = max(1, math.ceil(self.upload_wait))
            raise HTTPException(
                503,
                f"the server is busy with {self.slots_total} other uploads: try again in {seconds} s",
                headers={"Retry-After": str(seconds)},
            )
        try:
            yield
        finally:
            self.upload_slots.release()


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
