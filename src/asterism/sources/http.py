"""A polite HTTP client shared by the network sources.

Museums' APIs are public goods run on small budgets. Every request goes
through a per-host rate limit and a per-host concurrency bound, carries a
descriptive User-Agent, and is retried with exponential backoff on 429, 5xx
and timeouts, honouring ``Retry-After``. Tests swap the transport or point the
base URL at a local replay server; nothing else changes.

``HttpSource`` is what the network sources share on top of the client: the
image download with its byte cap, and closing the client.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)

from asterism.config import HttpSettings, ImageSettings
from asterism.sources.base import ImageRef, SourceError

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
# The cap callers get without settings: the same as ``settings.images.max_bytes`` by default.
DEFAULT_MAX_IMAGE_BYTES = ImageSettings().max_bytes


class RetryableHTTPError(SourceError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableHTTPError | httpx.TimeoutException | httpx.TransportError)


class PoliteClient:
    """Rate-limited, retrying async HTTP client (one per ingest run)."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        headers: dict[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._settings = settings
        self._limiters: dict[str, AsyncLimiter] = {}
        self._slots: dict[str, asyncio.Semaphore] = {}
        base_headers = {"User-Agent": f"{settings.user_agent} <{settings.contact}>"}
        base_headers.update(headers or {})
        self._client = httpx.AsyncClient(
            headers=base_headers,
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=True,
            transport=transport,
        )
        self.requests_sent = 0

    def _host_controls(self, url: str) -> tuple[AsyncLimiter, asyncio.Semaphore]:
        host = urlsplit(url).hostname or ""
        if host not in self._limiters:
            rate = self._settings.host_rates.get(host, self._settings.rate)
            # max_rate requests per time_period; a period of 1/rate s keeps bursts at one request.
            self._limiters[host] = AsyncLimiter(1, 1.0 / rate)
            self._slots[host] = asyncio.Semaphore(self._settings.concurrency)
        return self._limiters[host], self._slots[host]

    def _wait(self, state: RetryCallState) -> float:
        """Exponential backoff with jitter, but never less than the server's Retry-After."""
        attempt = state.attempt_number
        backoff = min(self._settings.max_backoff, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableHTTPError) and exc.retry_after is not None:
            return float(min(self._settings.max_backoff, max(backoff, exc.retry_after)))
        return float(backoff)

    async def _send_once(self, url: str, params: dict[str, Any] | None, max_bytes: int | None) -> bytes:
        limiter, slot = self._host_controls(url)
        async with slot:
            await limiter.acquire()
            self.requests_sent += 1
            async with self._client.stream("GET", url, params=params) as response:
                if response.status_code in RETRY_STATUSES:
                    await response.aread()
                    raise RetryableHTTPError(
                        f"HTTP {response.status_code} from {response.url}",
                        parse_retry_after(response.headers.get("Retry-After")),
                    )
                if response.status_code >= 400:
                    await response.aread()
                    raise SourceError(f"HTTP {response.status_code} from {response.url}")
                declared = response.headers.get("Content-Length")
                if max_bytes is not None and declared and declared.isdigit() and int(declared) > max_bytes:
                    raise SourceError(f"{response.url} is {declared} bytes, over the {max_bytes}-byte limit")
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise SourceError(f"{response.url} is over the {max_bytes}-byte limit")
                    chunks.append(chunk)
                return b"".join(chunks)

    async def get_bytes(
        self, url: str, params: dict[str, Any] | None = None, *, max_bytes: int | None = None
    ) -> bytes:
        """GET with retries; raises ``SourceError`` once retries are exhausted."""
        retrying = AsyncRetrying(
            retry=retry_if_exception(_is_retryable),
            stop=stop_after_attempt(self._settings.retries + 1),
            wait=self._wait,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._send_once(url, params, max_bytes)
        except RetryableHTTPError as exc:
            raise SourceError(f"{exc} (gave up after {self._settings.retries + 1} attempts)") from exc
        except httpx.HTTPError as exc:
            raise SourceError(f"{type(exc).__name__} for {url}: {exc} (gave up)") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        """GET a JSON document; a malformed body is retried like a transient fault, then reported."""
        last_error = ""
        for _ in range(2):
            body = await self.get_bytes(url, params)
            try:
                return json.loads(body)
            except ValueError as exc:
                last_error = f"malformed JSON from {url}: {exc}"
        raise SourceError(last_error)

    async def aclose(self) -> None:
        await self._client.aclose()


class HttpSource:
    """Base of the network sources: one polite client, and a cap on every image download.

    The cap is the same number the harvester enforces after download
    (``settings.images.max_bytes``); applying it here stops an oversized file
    at its Content-Length or mid-stream instead of after it is all in memory.
    """

    def __init__(self, client: PoliteClient, *, max_image_bytes: int = DEFAULT_MAX_IMAGE_BYTES) -> None:
        self.client = client
        self.max_image_bytes = max_image_bytes

    async def fetch_image(self, ref: ImageRef) -> bytes:
        if not ref.url:
            raise SourceError("no image URL")
        return await self.client.get_bytes(ref.url, max_bytes=self.max_image_bytes)

    async def aclose(self) -> None:
        await self.client.aclose()
