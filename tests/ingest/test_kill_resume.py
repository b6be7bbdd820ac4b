"""A process killed with SIGKILL mid-ingest, then re-run: nothing duplicated, lost or orphaned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from asterism.home import Home
from asterism.images.store import ContentStore
from asterism.store import Database

from collection import write_collection

RECORDS = 240


def run_cli(home: Path, folder: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, ASTERISM_HOME=str(home), ASTERISM_BATCH_SIZE="8", ASTERISM_OCR__MODE="never")
    return subprocess.Popen(
        [sys.executable, "-m", "asterism.cli.main", "ingest", "local", str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def committed(db: Path) -> int:
    if not db.exists():
        return 0
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT count(*) FROM artworks")).scalar() or 0)
    except sa.exc.OperationalError:
        return 0
    finally:
        engine.dispose()


@pytest.mark.slow
def test_sigkill_then_rerun_resumes_without_duplicates_or_orphans(tmp_path: Path) -> None:
    folder, home = tmp_path / "big", tmp_path / "home"
    write_collection(folder, good=RECORDS, hostile=False, size=(400, 300))
    db = home / "asterism.db"

    process = run_cli(home, folder)
    deadline = time.monotonic() + 60
    while committed(db) < 24 and time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"ingest ended before it could be killed: {process.stderr.read().decode()}")
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = committed(db)
    assert 0 < killed_at < RECORDS, "the kill must land mid-run for this test to mean anything"

    rerun = run_cli(home, folder)
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err.decode()
    summary = err.decode()
    seen = int(summary.split(" seen,")[0].rsplit(" ", 1)[-1])
    assert seen <= RECORDS - killed_at + 8, f"re-run should resume near record {killed_at}, read {seen}"

    database = Database(f"sqlite:///{db}")
    store = database.records
    rows = list(store.artworks())
    assert len(rows) == RECORDS
    assert len({a.source_id for a in rows}) == RECORDS
    on_disk = ContentStore(Home(home), {"thumb": 256, "medium": 843}).all_shas()
    assert on_disk == {a.image.sha256 for a in rows if a.image}
    assert not list(home.rglob("*.tmp"))
    assert store.get_checkpoint("local", "local:big") is None  # finished runs leave no checkpoint
    database.close()
