"""Fixtures for the network sources: a replay server and fast, polite HTTP settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from asterism.config import HttpSettings
from asterism.sources.http import PoliteClient

from replay_server import Replay, serve


@pytest.fixture
def replay() -> Iterator[Replay]:
    yield from serve()


@pytest.fixture
def http() -> HttpSettings:
    """Fast settings: real retries and backoff, scaled down so the suite stays quick."""
    return HttpSettings(rate=50.0, host_rates={}, retries=3, max_backoff=0.3, timeout=1.0, concurrency=4)


@pytest.fixture
def client(http: HttpSettings) -> PoliteClient:
    return PoliteClient(http)
