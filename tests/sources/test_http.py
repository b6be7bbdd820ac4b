"""The polite client against a real local server: retries, Retry-After, timeouts, rate limits."""

from __future__ import annotations

import asyncio
import time

import pytest

from asterism.config import HttpSettings
from asterism.sources.base import SourceError
from asterism.sources.http import PoliteClient, parse_retry_after

from replay_server import Fault, Replay


def get(client: PoliteClient, url: str) -> object:
    async def run() -> object:
        try:
            return await client.get_json(url)
        finally:
            await client.aclose()

    return asyncio.run(run())


def test_429_is_retried_after_the_servers_retry_after(replay: Replay, http: HttpSettings) -> None:
    replay.route("/thing", {"ok": True})
    replay.fail("/thing", Fault(status=429, retry_after="1"))
    started = time.monotonic()
    assert get(PoliteClient(http.model_copy(update={"max_backoff": 5})), f"{replay.url}/thing") == {
        "ok": True
    }
    times = [r.at for r in replay.seen("/thing")]
    assert len(times) == 2
    assert times[1] - times[0] >= 0.95  # honoured Retry-After, not the 0.5 s backoff
    assert time.monotonic() - started < 4


def test_500s_are_retried_then_succeed(replay: Replay, http: HttpSettings) -> None:
    replay.route("/thing", {"ok": 1})
    replay.fail("/thing", Fault(status=500), Fault(status=503))
    assert get(PoliteClient(http), f"{replay.url}/thing") == {"ok": 1}
    assert len(replay.seen("/thing")) == 3


def test_persistent_500_gives_a_clear_error(replay: Replay, http: HttpSettings) -> None:
    replay.fail("/thing", *[Fault(status=500)] * 10)
    with pytest.raises(SourceError, match=r"HTTP 500 .*gave up after 4 attempts"):
        get(PoliteClient(http), f"{replay.url}/thing")


def test_slow_response_times_out_and_is_retried(replay: Replay, http: HttpSettings) -> None:
    replay.route("/thing", {"ok": 2})
    replay.fail("/thing", Fault(delay=1.5))
    assert get(PoliteClient(http.model_copy(update={"timeout": 0.5})), f"{replay.url}/thing") == {"ok": 2}
    assert len(replay.seen("/thing")) == 2


def test_malformed_json_is_retried_then_reported(replay: Replay, http: HttpSettings) -> None:
    replay.route("/thing", {"ok": 3})
    replay.fail("/thing", Fault(malformed=True))
    assert get(PoliteClient(http), f"{replay.url}/thing") == {"ok": 3}
    replay.fail("/other", Fault(malformed=True), Fault(malformed=True))
    with pytest.raises(SourceError, match="malformed JSON"):
        get(PoliteClient(http), f"{replay.url}/other")


def test_rate_limit_spaces_requests(replay: Replay, http: HttpSettings) -> None:
    replay.route("/thing", {"ok": 4})
    client = PoliteClient(http.model_copy(update={"rate": 5.0}))

    async def run() -> None:
        try:
            await asyncio.gather(*(client.get_json(f"{replay.url}/thing") for _ in range(6)))
        finally:
            await client.aclose()

    asyncio.run(run())
    times = sorted(r.at for r in replay.seen("/thing"))
    assert times[-1] - times[0] >= 0.9  # 6 requests at 5/s take at least a second


def test_oversized_download_is_refused(replay: Replay, http: HttpSettings) -> None:
    replay.route("/big", lambda _q, _p: (200, {}, b"x" * 5000))
    client = PoliteClient(http)

    async def run() -> bytes:
        try:
            return await client.get_bytes(f"{replay.url}/big", max_bytes=1000)
        finally:
            await client.aclose()

    with pytest.raises(SourceError, match="1000-byte limit"):
        asyncio.run(run())


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)
    assert parse_retry_after("soon") is None
