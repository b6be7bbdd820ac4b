"""Redis, the answer cache, killed or hung under a running API: answers keep coming, then it is used again.

The cache is an optimisation, so its outage may cost speed, never an answer:
no 500, and no request held for more than the stated socket timeout. When
Redis is back, answers are cached and served from it again. The faults are
made on a private ``redis-server`` (see ``conftest.py``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from fastapi.testclient import TestClient
from redisserver import RedisServer

from asterism.api.app import create_app
from asterism.api.cache import open_cache
from asterism.config import CacheSettings, Settings
from asterism.recommend.service import Service

TIMEOUT = 0.5  # cache.timeout: the most one Redis call may take
RETRY_AFTER = 0.5  # cache.retry_after: how long Redis is left alone after it failed
# A recommendation computed without the cache, plus one Redis timeout, on a loaded machine. Without
# bounded calls a hung Redis held each request for many seconds (retries, each waiting its timeout).
ANSWERED_WITHIN = 4.0


@contextmanager
def api(built: Settings, service: Service, redis_url: str) -> Iterator[TestClient]:
    cache = CacheSettings(backend="redis", url=redis_url, timeout=TIMEOUT, retry_after=RETRY_AFTER)
    settings = built.model_copy(update={"cache": cache})
    with TestClient(create_app(settings, service=service, ui=None)) as client:
        yield client


def ask(client: TestClient, start: int, k: int) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    response = client.post("/v1/recommendations", json={"artwork_id": start, "k": k})
    assert response.status_code == 200, response.text
    return response, time.monotonic() - began


def first_work(client: TestClient) -> int:
    return int(client.get("/v1/search", params={"q": "monet"}).json()["results"][0]["id"])


def cached_again(client: TestClient, start: int, k: int, within: float = 15.0) -> bool:
    """Ask until the answer comes from Redis (a miss stores it, the next asks hit)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if ask(client, start, k)[0].headers["X-Cache"] == "hit":
            return True
        time.sleep(RETRY_AFTER / 2)
    return False


def test_redis_killed_answers_without_it_then_uses_it_again(
    built: Settings, service: Service, redis_server: RedisServer
) -> None:
    with api(built, service, redis_server.url) as client:
        start = first_work(client)
        computed, _ = ask(client, start, 3)
        cached, _ = ask(client, start, 3)
        assert (computed.headers["X-Cache"], cached.headers["X-Cache"]) == ("miss", "hit")
        assert cached.content == computed.content

        redis_server.kill()
        for _ in range(3):  # the cached answer is out of reach: computed again, each time, promptly
            response, seconds = ask(client, start, 3)
            assert response.headers["X-Cache"] == "miss" and response.content == computed.content
            assert seconds < ANSWERED_WITHIN

        redis_server.start()  # back, and empty: a restarted cache lost its memory
        assert cached_again(client, start, 3), "Redis is back but the answers never came from it again"


def test_hung_redis_holds_a_request_for_one_timeout_at_most(
    built: Settings, service: Service, redis_server: RedisServer
) -> None:
    with api(built, service, redis_server.url) as client:
        start = first_work(client)
        ask(client, start, 4)
        assert ask(client, start, 4)[0].headers["X-Cache"] == "hit"

        redis_server.freeze()  # accepts connections, answers nothing
        try:
            for _ in range(3):
                response, seconds = ask(client, start, 4)
                assert response.headers["X-Cache"] == "miss"
                assert seconds < ANSWERED_WITHIN, f"a hung Redis held the request for {seconds:.1f} s"
        finally:
            redis_server.thaw()
        assert cached_again(client, start, 4), "Redis answers again but the cache was never used again"


def test_a_failed_call_leaves_redis_alone_for_a_while_then_uses_it_again(redis_server: RedisServer) -> None:
    """One timeout per outage and ``retry_after``, not two per request (its get and its set)."""
    retry_after = 2.0
    cache = open_cache(
        CacheSettings(backend="redis", url=redis_server.url, timeout=TIMEOUT, retry_after=retry_after)
    )
    cache.set("answer", b"42")
    assert cache.get("answer") == b"42"

    redis_server.freeze()
    try:
        began = time.monotonic()
        assert cache.get("answer") is None
        waited = time.monotonic() - began
        assert TIMEOUT * 0.8 <= waited < TIMEOUT + 1.0, f"waited {waited:.2f} s for a hung Redis"
        began = time.monotonic()
        for _ in range(10):  # each would wait a timeout again if Redis were still called
            assert cache.get("answer") is None
            cache.set("other", b"1")
        assert time.monotonic() - began < TIMEOUT, "Redis was called again within retry_after"
    finally:
        redis_server.thaw()

    deadline = time.monotonic() + retry_after + 5
    while cache.get("answer") != b"42":
        assert time.monotonic() < deadline, "Redis answers again but the cache never used it"
        time.sleep(0.1)
