"""PostgreSQL stopped under a running ingest: the run rides it out, or stops saying why; nothing lost or doubled.

The ingest (the real CLI, in its own process) writes into a private cluster
(``conftest.py``: the shared server is never touched). Once it has stored a
page, another session locks the checkpoints table, so the next page's
transaction waits inside, its records written but not committed; then the
server is stopped, which cuts that transaction off mid-page (and ends the
lock). Restarted while the ingest is still reconnecting, the run finishes on
its own; kept away longer than ``store.reconnect_timeout``, the run ends with
``error: ...`` and a re-run resumes from the last stored page. Either way
every record is stored exactly once, with its image file and no orphan files.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from pgcluster import PgCluster
from sqlalchemy.pool import NullPool

import asterism
from asterism.config import load_settings
from asterism.home import Home
from asterism.images.store import ContentStore
from asterism.shapes import Status
from asterism.store import Database
from asterism.store.retry import Patience
from ingest.collection import write_collection

RECORDS = 48  # 6 pages of 8; a lock holds the run at its second page (see page_write_waiting)
STARTED = 8  # records stored before the server goes away


def run_cli(home: Path, folder: Path, url: str, reconnect: float, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, ASTERISM_HOME=str(home), ASTERISM_BATCH_SIZE="8", ASTERISM_OCR__MODE="never",
               ASTERISM_STORE__BACKEND="postgres", ASTERISM_STORE__URL=url,
               ASTERISM_STORE__RECONNECT_TIMEOUT=str(reconnect))  # fmt: skip
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "asterism.cli.main", "ingest", "local", str(folder)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def committed(probe: sa.Engine) -> int:
    try:
        with probe.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM artworks")).scalar() or 0)
    except sa.exc.DBAPIError:  # no schema yet
        return 0


@contextmanager
def page_write_waiting(probe: sa.Engine, process: subprocess.Popen[bytes], log: Path) -> Iterator[None]:
    """Inside the block a page's transaction waits, its records written; stop the server there.

    The lock is held by a session of ``probe`` until the block ends: the stop ends that session,
    and the server rolls the waiting transaction back, so the page must be written again, once.
    """
    holder = probe.connect()
    holder.begin()
    holder.execute(sa.text("LOCK TABLE checkpoints IN ACCESS EXCLUSIVE MODE"))
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )

    def page_waits() -> bool:
        with probe.connect() as conn:
            return bool(conn.execute(waiting).scalar())

    try:
        wait_until(page_waits, process, log, "a page transaction waited on the lock")
        yield
    finally:
        holder.invalidate()  # its session ended with the server (or the test failed)
        holder.close()


def wait_until(condition: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + 180
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the ingest ended before {what}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting until {what}:\n{log.read_text()}")
        time.sleep(0.02)


def assert_stored_exactly_once(url: str, home: Path, folder: Path, expected: list[str]) -> None:
    database = Database(url)
    try:
        store = database.records
        rows = list(store.artworks())
        assert sorted(a.source_id for a in rows) == sorted(f"{folder.name}/{i}" for i in expected)
        assert all(a.status == Status.ACTIVE and a.image is not None for a in rows)
        assert store.problems() == []
        assert store.get_checkpoint("local", f"local:{folder.name}") is None  # the run finished
        on_disk = ContentStore(Home(home), {"thumb": 256, "medium": 843}).all_shas()
        assert on_disk == {a.image.sha256 for a in rows if a.image}  # no file lost, no orphan file
        assert store.stats()["images"] == len(on_disk)
    finally:
        database.close()


@pytest.mark.slow
def test_ingest_rides_out_a_postgres_restart(pg: PgCluster, tmp_path: Path) -> None:
    url = pg.database("restart")
    folder, home, log = tmp_path / "big", tmp_path / "home", tmp_path / "ingest.log"
    expected = write_collection(folder, good=RECORDS, hostile=False, size=(160, 120))["good"]
    probe = sa.create_engine(url, poolclass=NullPool)

    process = run_cli(home, folder, url, 120, log)
    try:
        wait_until(lambda: committed(probe) >= STARTED, process, log, f"{STARTED} records were stored")
        with page_write_waiting(probe, process, log):
            pg.stop()  # fast: every session is ended, its transaction rolled back
        # the server stays away until the ingest is reconnecting
        wait_until(lambda: "reconnecting" in log.read_text(), process, log, "the ingest met the outage")
        pg.start()
        assert process.wait(timeout=300) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    errors = log.read_text()
    assert "Traceback" not in errors
    assert "connection lost during write_batch" in errors, errors  # the page write itself was cut
    assert_stored_exactly_once(url, home, folder, expected)


@pytest.mark.slow
def test_ingest_stops_saying_why_when_postgres_stays_away_then_resumes(pg: PgCluster, tmp_path: Path) -> None:
    url = pg.database("away")
    folder, home, log = tmp_path / "big", tmp_path / "home", tmp_path / "ingest.log"
    expected = write_collection(folder, good=RECORDS, hostile=False, size=(160, 120))["good"]
    probe = sa.create_engine(url, poolclass=NullPool)

    process = run_cli(home, folder, url, 2, log)
    try:
        wait_until(lambda: committed(probe) >= STARTED, process, log, f"{STARTED} records were stored")
        stored_before = committed(probe)
        with page_write_waiting(probe, process, log):
            pg.stop()
        began = time.monotonic()
        code = process.wait(timeout=120)
        gave_up_after = time.monotonic() - began
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        pg.start()
    errors = log.read_text()
    message = " ".join(errors.split())  # the console wraps long lines
    assert code == 1, errors
    assert "Traceback" not in errors
    assert "error:" in message and "stayed unreachable for" in message
    assert "(store.reconnect_timeout = 2 s)" in message and "Re-run the command" in message
    stated = re.search(r"stayed unreachable for ([0-9.]+) s", message)
    assert stated is not None and float(stated.group(1)) >= 2.0, "gave up before the stated time"
    assert gave_up_after < 30, f"the ingest hung {gave_up_after:.0f} s for a 2 s reconnect timeout"
    assert stored_before < RECORDS

    # the re-run (in process: a second CLI start costs seconds) resumes after the last stored page
    settings = load_settings(
        home=home, store={"backend": "postgres", "url": url}, ocr={"mode": "never"}, batch_size=8
    )
    with asterism.Collection(settings) as collection:
        report = collection.ingest("local", folder)
    assert report.seen <= RECORDS - stored_before, f"the re-run read {report.seen} records: it did not resume"
    assert_stored_exactly_once(url, home, folder, expected)


def test_a_misconfigured_database_fails_at_once_instead_of_waiting(pg: PgCluster) -> None:
    """Only an outage is waited for: a database that does not exist will not appear by waiting."""
    began = time.monotonic()
    with pytest.raises(sa.exc.OperationalError, match="does not exist"):
        Database(pg.url("no_such_database"), Patience(reconnect_timeout=60))
    assert time.monotonic() - began < 10
