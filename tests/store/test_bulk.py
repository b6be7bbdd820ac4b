"""``bulk_load`` (COPY on PostgreSQL) writes exactly the rows ``write_batch`` writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from asterism.shapes import Artwork, ImageFacts, Status
from asterism.store import Database
from asterism.store.base import Batch
from asterism.store.bulk import bulk_load
from asterism.store.schema import artworks, images


@pytest.fixture(params=["postgres", "sqlite"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (
        request.getfixturevalue("pg_url") if request.param == "postgres" else f"sqlite:///{tmp_path / 's.db'}"
    )
    opened = Database(url)
    yield opened
    opened.close()


def facts(n: int) -> ImageFacts:
    sha = f"{n:064x}"
    return ImageFacts(
        sha256=sha, phash=f"{n:016x}", phash_fine="ab" * 32, width=10 + n, height=20, mime="image/jpeg",
        path=f"images/{sha[:2]}/{sha[2:4]}/{sha}.jpg", bytes=123, metadata={"exif:Artist": "Sómeone\t\"q\""},
        ocr_text="line one\nline two\\", thumbs={"thumb": f"thumbs/thumb/{sha}.jpg"},
    )  # fmt: skip


def works() -> list[Artwork]:
    shared = facts(1)
    out = []
    for n in range(1, 8):
        out.append(
            Artwork(
                source="local",
                source_id=f"c/{n}",
                title=f"Wörk {n}\twith a tab",
                artist_name="A. Painter" if n % 2 else None,
                date_start=1870 + n if n != 3 else None,
                date_end=1879 + n if n != 3 else None,
                subjects=["harbour", "boats"],
                styles=["Realism"] if n % 3 else [],
                license_id="CC0-1.0",
                description=None if n == 4 else 'A quote " and a backslash \\ and a newline\n.',
                extras={
                    "license_url": "https://creativecommons.org/publicdomain/zero/1.0/",
                    "n": n,
                    "nested": {"a": [1, 2]},
                },
                image=shared if n in (1, 2) else (facts(n) if n != 5 else None),
                status=Status.ACTIVE if n != 6 else Status.EXCLUDED,
                status_reason=None if n != 6 else "license",
            )
        )
    return out


def rows(database: Database) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with database.engine.connect() as conn:
        works = [
            {k: v for k, v in r._mapping.items() if k not in ("id", "created_at", "updated_at")}
            for r in conn.execute(sa.select(artworks).order_by(artworks.c.id))
        ]
        pictures = [
            {k: v for k, v in r._mapping.items() if k != "created_at"}
            for r in conn.execute(sa.select(images).order_by(images.c.sha256))
        ]
    return works, pictures


def test_bulk_load_writes_the_rows_write_batch_writes(database: Database) -> None:
    given = works()
    fingerprints = {w.source_id: f"fp-{w.source_id}" for w in given}
    database.records.write_batch(Batch(source="local", artworks=given, fingerprints=fingerprints,
                                       images=[w.image for w in given if w.image]))  # fmt: skip
    expected = rows(database)
    with database.engine.begin() as conn:
        conn.execute(sa.delete(artworks))
        conn.execute(sa.delete(images))
    report = bulk_load(
        database.engine, iter(given), {("local", k): v for k, v in fingerprints.items()}, chunk=3
    )
    assert (report.artworks, report.images) == (7, 5)  # the shared image once, work 5 has none
    assert rows(database) == expected
    stored = list(database.records.artworks())
    assert [w.source_id for w in stored] == [w.source_id for w in given]  # ids in the order given
    assert [w.model_dump(exclude={"id", "updated_at"}) for w in stored] == [
        w.model_dump(exclude={"id", "updated_at"}) for w in given
    ]


def test_bulk_load_keeps_an_image_already_stored_and_refuses_a_stored_work(database: Database) -> None:
    given = works()
    database.records.write_batch(Batch(source="local", artworks=given[:1], images=[given[0].image]))  # type: ignore[list-item]
    report = bulk_load(database.engine, given[1:])
    assert (report.artworks, report.images) == (6, 4)  # work 2 shares the stored image
    assert database.records.count() == 7
    with pytest.raises(sa.exc.IntegrityError):  # insert only: a stored key fails the whole load
        bulk_load(database.engine, [given[0].model_copy(update={"source_id": "new"}), given[3]])
    assert database.records.count() == 7
