"""The OCR ledger on both backends: pending images, one row per image, text onto the image row."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_store import artwork, facts

from asterism.store import Database
from asterism.store.base import Batch
from asterism.store.ocr import OcrResult

READER = "tesseract:eng:conf70:side2000"


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    opened = Database(url)
    images = [facts(1), facts(2), facts(3)]
    works = [artwork(i, image=image) for i, image in enumerate(images, start=1)]
    opened.records.write_batch(
        Batch(source="local", artworks=works, images=images, fingerprints={w.source_id: "f" for w in works})
    )
    yield opened
    opened.close()


def test_results_are_kept_once_per_image_with_the_text_on_the_image(database: Database) -> None:
    shas = [facts(n).sha256 for n in (1, 2, 3)]
    assert [p.sha256 for p in database.ocr.pending(READER)] == shas
    assert database.ocr.pending(READER)[0].path == facts(1).path

    first = [OcrResult(shas[0], "text", "HARBOUR BOATS", 0.4), OcrResult(shas[1], "skipped", seconds=0.01)]
    database.ocr.put(READER, first)
    database.ocr.put(READER, first)  # a chunk written twice (a resumed run): still one row each
    assert database.ocr.count() == 2
    assert [p.sha256 for p in database.ocr.pending(READER)] == [shas[2]]
    assert [p.sha256 for p in database.ocr.pending(READER, redo_skipped=True)] == shas[1:]
    stored = database.records.image(shas[0])
    assert stored is not None and stored.ocr_text == "HARBOUR BOATS"

    assert len(database.ocr.pending("tesseract:deu:conf70:side2000")) == 3  # another reader reads again
    database.ocr.put(READER, [OcrResult(shas[1], "none"), OcrResult(shas[2], "timeout", seconds=5.0)])
    assert database.ocr.pending(READER, redo_skipped=True) == []
    assert database.ocr.outcomes() == {"text": 1, "none": 1, "timeout": 1}
