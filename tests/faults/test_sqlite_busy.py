"""SQLite's write lock held by another writer: an ingest or a vote waits, then succeeds or says why.

Another connection in ``BEGIN IMMEDIATE`` holds the write lock, as a second
process in a write transaction would. A write waits for it up to
``store.busy_timeout``; if the lock is released within that wait the write
goes through, otherwise it fails with a message naming the cause (the CLI:
exit 1, ``error: ...``, no traceback; the API: HTTP 503 with Retry-After).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import asterism
from asterism.api.app import create_app
from asterism.config import Settings
from asterism.recommend.service import Service, open_service
from asterism.store import open_database
from ingest.collection import write_collection

RECORDS = 16


@contextmanager
def write_lock(db: Path, release_after: float | None = None) -> Iterator[None]:
    """Another connection holds the database's write lock, until the block ends or ``release_after``."""
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    timer = threading.Timer(release_after, holder.execute, ["ROLLBACK"]) if release_after else None
    if timer is not None:
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.cancel()
            timer.join()
        if holder.in_transaction:
            holder.execute("ROLLBACK")
        holder.close()


def with_busy_timeout(settings: Settings, seconds: float) -> Settings:
    return settings.model_copy(update={"store": settings.store.model_copy(update={"busy_timeout": seconds})})


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "works"
    write_collection(path, good=RECORDS, hostile=False)
    return path


def test_ingest_behind_a_held_lock_fails_after_the_busy_timeout_naming_the_cause(
    settings: Settings, folder: Path
) -> None:
    open_database(settings).close()  # the store exists, with its schema, before the lock is taken
    env = dict(os.environ, ASTERISM_HOME=str(settings.paths.root), ASTERISM_BATCH_SIZE="8",
               ASTERISM_OCR__MODE="never", ASTERISM_STORE__BUSY_TIMEOUT="1")  # fmt: skip
    with write_lock(settings.paths.database_file):
        done = subprocess.run(
            [sys.executable, "-m", "asterism.cli.main", "ingest", "local", str(folder)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    message = " ".join(done.stderr.split())  # the console wraps long lines
    assert "error:" in message and "is locked by another writer" in message
    assert "gave up after waiting 1 s (store.busy_timeout)" in message
    assert "Re-run the command" in message


def test_ingest_waits_for_a_lock_released_within_the_busy_timeout(settings: Settings, folder: Path) -> None:
    settings = with_busy_timeout(settings, 20)
    open_database(settings).close()
    began = time.monotonic()
    with (
        write_lock(settings.paths.database_file, release_after=1.0),
        asterism.Collection(settings) as collection,
    ):
        report = collection.ingest("local", folder)
    assert time.monotonic() - began >= 1.0, "the lock was not in the ingest's way: the test proves nothing"
    assert report.stored == RECORDS and report.failed == 0
    with open_database(settings) as database:
        assert sorted(a.source_id for a in database.records.artworks()) == sorted(
            f"works/g{i}" for i in range(RECORDS)
        )


@pytest.fixture(scope="module")
def impatient(built: Settings) -> Iterator[Service]:
    """The built sample collection opened with a 2-second busy timeout (votes write to its store)."""
    opened = open_service(with_busy_timeout(built, 2.0))
    try:
        yield opened
    finally:
        opened.close()


def test_vote_behind_a_held_lock_is_a_503_then_waits_for_a_lock_released_in_time(
    built: Settings, impatient: Service
) -> None:
    with TestClient(create_app(with_busy_timeout(built, 2.0), service=impatient, ui=None)) as client:
        start = client.get("/v1/search", params={"q": "monet"}).json()["results"][0]["id"]
        pairs = [
            client.post("/v1/study/pairs", json={"artwork_id": start, "k": 2}).json()["pair_id"] for _ in "ab"
        ]

        with write_lock(built.paths.database_file):
            began = time.monotonic()
            refused = client.post("/v1/study/votes", json={"pair_id": pairs[0], "choice": "left"})
            waited = time.monotonic() - began
        assert refused.status_code == 503, refused.text
        assert "locked by another writer" in refused.json()["detail"]
        assert refused.headers["Retry-After"] == "5"
        assert 2.0 <= waited < 15, f"the vote waited {waited:.1f} s, not the 2 s busy timeout"

        with write_lock(built.paths.database_file, release_after=0.5):
            began = time.monotonic()
            recorded = client.post("/v1/study/votes", json={"pair_id": pairs[1], "choice": "right"})
            assert time.monotonic() - began >= 0.5, "the lock was not in the vote's way"
        assert recorded.status_code == 200, recorded.text
        # the refused vote was not recorded: it can still be cast
        assert client.post("/v1/study/votes", json={"pair_id": pairs[0], "choice": "left"}).status_code == 200
