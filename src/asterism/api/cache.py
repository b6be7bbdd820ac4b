"""A cache of answers (serialised recommendation pages), in process or in Redis.

Recommendations are deterministic for a given collection and question, so a
repeated question (the same start, weights, filters and page; for uploads the
same picture bytes) can be answered from the cache. Keys carry the
collection's version, so a rebuild never serves a stale answer. The cache is
an optimisation: if Redis is unreachable the request is computed, never failed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
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
    """Answers shared by every worker and server, expiring after ``ttl`` seconds."""

    def __init__(self, url: str, ttl: int) -> None:
        import redis

        self._client: Any = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._ttl = ttl

    def get(self, key: str) -> bytes | None:
        try:
            value = self._client.get(key)
        except Exception as exc:  # an unreachable cache is a slower answer, not an error
            log.warning("redis cache get failed: %s", exc)
            return None
        return bytes(value) if value is not None else None

    def set(self, key: str, value: bytes) -> None:
        try:
            self._client.set(key, value, ex=self._ttl)
        except Exception as exc:
            log.warning("redis cache set failed: %s", exc)


def open_cache(settings: CacheSettings) -> Cache:
    if settings.backend == "redis":
        return RedisCache(settings.url, settings.ttl)
    if settings.backend == "memory":
        return MemoryCache(settings.max_entries)
    return NoCache()


def cache_key(version: str, kind: str, fields: dict[str, Any], payload: bytes | None = None) -> str:
    """``asterism:<collection version>:<kind>:<digest of the question>``."""
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode())
    if payload is not None:
        digest.update(hashlib.sha256(payload).digest())
    return f"asterism:{version}:{kind}:{digest.hexdigest()[:32]}"
