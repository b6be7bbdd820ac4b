"""Private servers for fault tests: a PostgreSQL cluster and a Redis that may be stopped at will.

The shared PostgreSQL and Redis of the machine serve other tests and CI, so
the faults are made on servers of the test's own. Each is skipped, saying
why, only when its binaries are not installed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from pgcluster import SEARCHED, PgCluster, free_port, pg_cluster, server_binaries
from redisserver import RedisServer


@pytest.fixture(scope="module")
def pg() -> Iterator[PgCluster]:
    """A running private PostgreSQL cluster, shared by the tests of one module."""
    bindir = server_binaries()
    if bindir is None:
        pytest.skip(f"PostgreSQL server binaries (initdb, pg_ctl) not found in {SEARCHED}")
    with pg_cluster(bindir) as cluster:
        yield cluster


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A running private Redis on a free port, killed afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not found on PATH")
    server = RedisServer(binary, free_port())
    server.start()
    try:
        yield server
    finally:
        server.kill()
