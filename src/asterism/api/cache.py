"""A cache of answers (serialised recommendation pages), in process or in Redis.

Recommendations are deterministic for a given collection and question, so a
repeated question (the same start, weights, filters and page; for uploads the
same picture bytes) can be answered from the cache. Keys carry the
collection's version, so a rebuild never serves a stale answer. The cache is
an optimisation: if Redis is unreachable the request is computed, never failed,
and never held for more than one ``cache.timeout``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Protocol

from asterism.config import CacheSettings

log = logging.getLogger(__name__)


class Cache(Protocol):
    def get(self, key: str) -> bytes | None: ...

    def set(self, key: str, value: bytes) -> None: ...


class NoCache:
    def get(self, key: str) -> bytes | None:
        return None

    def set(self, key: str, value: bytes) -> None:
        return None


class MemoryCache:
    """A thread-safe LRU of at most ``max_entries`` answers (per server process)."""

    def __init__(self, max_entries: int) -> None:
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def set(self, key: str, value: bytes) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)


class RedisCache:
    """Answers shared by every worker and server, expiring after ``ttl`` seconds.

    Each call waits at most ``timeout`` (to connect, then for the reply) and is not
    retried (redis-py's retry defaults have changed between versions; pinned here).
    After a failed call Redis is bypassed for ``retry_after`` seconds: a hung Redis
    would otherwise cost every request a timeout for its get and another for its set.
    Then it is tried, and used, again (a pooled connection that a restart killed is
    replaced when it is taken from the pool).
    """

    def __init__(self, url: str, ttl: int, timeout: float = 0.5, retry_after: float = 5.0) -> None:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self._client: Any = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
        self._ttl = ttl
        self._retry_after = retry_after
        self._bypass_until = 0.0  # time.monotonic() before which Redis is not called

    def _failed(self, call: str, exc: Exception) -> None:
        self._bypass_until = time.monotonic() + self._retry_after
        log.warning("redis cache %s failed (%s); answering without it for %g s", call, exc, self._retry_after)

    def get(self, key: str) -> bytes | None:
        if time.monotonic() < self._bypass_until:
            return None
        try:
            value = self._client.get(key)
        except Exception as exc:  # an unreachable cache is a slower answer, not an error
            self._failed("get", exc)
            return None
        return bytes(value) if value is not None else None

    def set(self, key: str, value: bytes) -> None:
        if time.monotonic() < self._bypass_until:
            return
        try:
            self._client.set(key, value, ex=self._ttl)
        except Exception as exc:
            self._failed("set", exc)


def open_cache(settings: CacheSettings) -> Cache:
    if settings.backend == "redis":
        return RedisCache(settings.url, settings.ttl, settings.timeout, settings.retry_after)
    if settings.backend == "memory":
        return MemoryCache(settings.max_entries)
    return NoCache()


def cache_key(version: str, kind: str, fields: dict[str, Any], payload: bytes | None = None) -> str:
    """``asterism:<collection version>:<kind>:<digest of the question>``."""
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode())
    if payload is not None:
        digest.update(hashlib.sha256(payload).digest())
    return f"asterism:{version}:{kind}:{digest.hexdigest()[:32]}"
