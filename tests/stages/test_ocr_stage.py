"""OCR as its own stage: gated by default, resumable after a kill, one result per image, modes as they say."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from asterism.collection import Collection
from asterism.config import Settings, load_settings
from asterism.images.ocr import tesseract_available
from asterism.stages.ocr import CHUNK, run_ocr
from asterism.store import open_database
from asterism.store.schema import ocr_results

import imagegen

pytestmark = pytest.mark.skipif(not tesseract_available(), reason="tesseract-ocr is not installed")

PHRASES = ["HARBOUR BOATS EXHIBITION 1874", "EVENING RIVER LANDSCAPE 1890"]


def write(folder: Path, phrases: list[str], paintings: int) -> None:
    """A local collection: one picture of words per phrase, then plain generated paintings."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, phrase in enumerate(phrases):
        (folder / f"t{i}.png").write_bytes(imagegen.text_image(phrase))
        lines.append({"id": f"t{i}", "image": f"t{i}.png", "title": f"Poster {i}", "license": "CC0"})
    for i in range(paintings):
        (folder / f"p{i}.jpg").write_bytes(imagegen.jpeg(i, (480, 360)))
        lines.append({"id": f"p{i}", "image": f"p{i}.jpg", "title": f"Harbour {i}", "license": "CC0"})
    (folder / "records.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")


def settings_for(home: Path, mode: str) -> Settings:
    return load_settings(home=home, ocr={"mode": mode}, workers=2, batch_size=8)


def ingest(settings: Settings, folder: Path, ocr: bool | None = None) -> None:
    with Collection(settings) as collection:
        collection.ingest("local", folder, ocr=ocr)


def texts(settings: Settings) -> dict[str, str]:
    """{record id: stored OCR text} of every work (the source id is "<collection>/<record id>")."""
    database = open_database(settings)
    try:
        return {
            a.source_id.rsplit("/", 1)[-1]: a.image.ocr_text for a in database.records.artworks() if a.image
        }
    finally:
        database.close()


def ledger(settings: Settings) -> list[tuple[str, str, object]]:
    """(sha256, outcome, updated_at) of every OCR result row."""
    database = open_database(settings)
    try:
        with database.engine.connect() as conn:
            query = sa.select(ocr_results.c.sha256, ocr_results.c.outcome, ocr_results.c.updated_at)
            return [tuple(row) for row in conn.execute(query)]
    finally:
        database.close()


def rerun(settings: Settings, mode: str | None = None) -> tuple[int, int, int]:
    database = open_database(settings)
    try:
        report = run_ocr(settings, database, mode=mode)
        return report.images, report.read, report.skipped
    finally:
        database.close()


def test_gate_mode_reads_the_pictures_of_words_and_skips_the_paintings(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "home", "gate")
    write(tmp_path / "c", PHRASES, paintings=4)
    with Collection(settings) as collection:
        report = collection.ingest("local", tmp_path / "c")
    assert (report.ocr_read, report.ocr_found, report.ocr_skipped) == (2, 2, 4)
    stored = texts(settings)
    assert {"HARBOUR", "BOATS", "EXHIBITION"} <= set(stored["t0"].upper().split())
    assert {"EVENING", "RIVER"} <= set(stored["t1"].upper().split())
    assert all(stored[f"p{i}"] == "" for i in range(4))
    assert sorted(outcome for _, outcome, _ in ledger(settings)) == ["skipped"] * 4 + ["text"] * 2
    assert rerun(settings) == (0, 0, 0)  # every image has its result: nothing is looked at again


def test_always_mode_reads_what_the_gate_skipped_and_never_duplicates(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "home", "gate")
    write(tmp_path / "c", PHRASES[:1], paintings=3)
    ingest(settings, tmp_path / "c")
    before = {sha: (outcome, at) for sha, outcome, at in ledger(settings)}

    assert rerun(settings, "always") == (3, 3, 0)  # only the three the gate skipped
    after = {sha: (outcome, at) for sha, outcome, at in ledger(settings)}
    assert len(after) == len(ledger(settings)) == 4
    assert sorted(outcome for outcome, _ in after.values()) == ["none", "none", "none", "text"]
    text_sha = next(sha for sha, (outcome, _) in before.items() if outcome == "text")
    assert after[text_sha] == before[text_sha]  # the text already read was not read again
    assert rerun(settings, "always") == (0, 0, 0)


def test_never_mode_reads_nothing_until_asked(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "home", "never")
    write(tmp_path / "c", PHRASES[:1], paintings=2)
    ingest(settings, tmp_path / "c")
    assert ledger(settings) == [] and set(texts(settings).values()) == {""}
    assert rerun(settings) == (0, 0, 0)  # the stage itself does nothing in this mode

    ingest(settings, tmp_path / "c", ocr=True)  # --ocr: read now, through the gate
    assert sorted(outcome for _, outcome, _ in ledger(settings)) == ["skipped", "skipped", "text"]
    assert "HARBOUR" in texts(settings)["t0"].upper()


def test_the_old_auto_mode_means_gate() -> None:
    assert load_settings(ocr={"mode": "auto"}).ocr.mode == "gate"
    assert load_settings().ocr.mode == "gate"


def test_no_ocr_at_ingest_leaves_it_to_the_build_whose_concept_documents_read_it(tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "home", "gate")
    write(tmp_path / "c", PHRASES[:1], paintings=1)
    ingest(settings, tmp_path / "c", ocr=False)
    assert ledger(settings) == []

    with Collection(settings) as collection:
        built = collection.build(stages=("ocr", "embed"))
    assert built.ocr is not None and (built.ocr.found, built.ocr.skipped) == (1, 1)
    database = open_database(settings)
    try:
        poster = next(a for a in database.records.artworks() if a.source_id.endswith("/t0"))
        assert poster.id is not None
        document = database.features.documents([poster.id])[poster.id]
    finally:
        database.close()
    assert "exhibition" in document.lower()


@pytest.mark.slow
def test_a_killed_ocr_stage_resumes_without_reading_done_images_again(tmp_path: Path) -> None:
    home, folder = tmp_path / "home", tmp_path / "c"
    count = CHUNK + 12  # killed once the first chunk is committed, with the rest still being read
    write(folder, [f"HARBOUR NUMBER {i} EXHIBITION" for i in range(count)], paintings=0)
    settings = settings_for(home, "always")
    ingest(settings, folder, ocr=False)
    database = home / "asterism.db"

    env = dict(os.environ, ASTERISM_HOME=str(home), ASTERISM_OCR__MODE="always", ASTERISM_WORKERS="2")
    process = subprocess.Popen(
        [sys.executable, "-m", "asterism.cli.main", "ocr"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while len(ledger(settings)) < CHUNK and time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the OCR stage ended before it could be killed: {process.stderr.read().decode()}")
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done = {sha: at for sha, _, at in ledger(settings)}
    assert CHUNK <= len(done) < count, "the kill must land mid-run for this test to mean anything"
    assert database.is_file()

    looked, read, _ = rerun(settings)
    assert looked == read == count - len(done)  # only the images without a result
    rows = ledger(settings)
    assert len(rows) == len({sha for sha, _, _ in rows}) == count
    assert all(at == done[sha] for sha, _, at in rows if sha in done)  # done images untouched
    assert all("HARBOUR" in text.upper() for text in texts(settings).values())
