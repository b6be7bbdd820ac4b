"""Bulk loading of artwork records into a fresh property store: ``COPY`` on PostgreSQL.

``SqlStore.write_batch`` upserts one batch per transaction (checkpoint, problems,
near-duplicate links): right for an ingest that resumes and refreshes, slow for a
first load of a million records (one ``INSERT … ON CONFLICT`` row at a time through
the driver). ``bulk_load`` writes the same rows (``_artwork_row``/``_image_row``, so
the columns and their values are the ones ``write_batch`` stores) with PostgreSQL's
``COPY FROM STDIN`` through psycopg, in one transaction, chunk by chunk: each chunk's
images first, then its artworks (the foreign key is checked per row).

It inserts and never updates: meant for an empty store (a migration, a restore, a
benchmark). An artwork key already stored makes the whole load fail and write
nothing; an image already stored is skipped (images are shared by content). Other
backends (SQLite) get the same rows through plain multi-row inserts. The store
assigns the ids, in the order given.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from asterism.shapes import Artwork
from asterism.store.schema import artworks as artworks_table
from asterism.store.schema import images as images_table
from asterism.store.sql import _artwork_row, _image_row

CHUNK = 20_000
_JSON = {
    table.name: {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
    for table in (artworks_table, images_table)
}


@dataclass(frozen=True)
class BulkReport:
    artworks: int
    images: int
    seconds: float


def bulk_load(
    engine: Engine,
    artworks: Iterable[Artwork],
    fingerprints: Mapping[tuple[str, str], str] | None = None,
    *,
    chunk: int = CHUNK,
) -> BulkReport:
    """Insert ``artworks`` (and their images) in one transaction; ``fingerprints`` by (source, source_id)."""
    started = datetime.now(UTC)
    fingerprints = fingerprints or {}
    copy = engine.dialect.name == "postgresql"
    written, pictures = 0, 0
    seen: set[str] = set()
    with engine.begin() as conn:
        stored = {r[0] for r in conn.execute(sa.select(images_table.c.sha256))} if not copy else set()
        seen |= stored
        works = iter(artworks)
        while batch := list(islice(works, chunk)):
            now = datetime.now(UTC)
            image_rows = []
            for work in batch:
                if work.image is not None and work.image.sha256 not in seen:
                    seen.add(work.image.sha256)
                    image_rows.append(_image_row(work.image, now))
            rows = [_artwork_row(w, fingerprints.get((w.source, w.source_id), ""), now) for w in batch]
            if copy:
                driver = conn.connection.driver_connection
                try:
                    if image_rows:
                        pictures += _copy_images(driver, image_rows)
                    _copy(driver, artworks_table.name, rows)
                except psycopg.IntegrityError as exc:  # as SQLAlchemy raises it on the other path
                    raise sa.exc.IntegrityError("COPY", None, exc) from exc
            else:
                if image_rows:
                    conn.execute(sa.insert(images_table), image_rows)
                    pictures += len(image_rows)
                conn.execute(sa.insert(artworks_table), rows)
            written += len(rows)
    seconds = (datetime.now(UTC) - started).total_seconds()
    return BulkReport(artworks=written, images=pictures, seconds=seconds)


def _copy_images(driver: Any, rows: list[dict[str, Any]]) -> int:
    """Images through a temporary table, so one already stored (shared content) is skipped."""
    with driver.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS bulk_images (LIKE images) ON COMMIT DROP")
        cursor.execute("TRUNCATE bulk_images")
    _copy(driver, "bulk_images", rows)
    with driver.cursor() as cursor:
        cursor.execute("INSERT INTO images SELECT * FROM bulk_images ON CONFLICT (sha256) DO NOTHING")
        return int(cursor.rowcount)


def _copy(driver: Any, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    json_columns = _JSON["images" if table == "bulk_images" else table]
    names = ", ".join(f'"{c}"' for c in columns)
    with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in _tuples(rows, columns, json_columns):
            copy.write_row(row)


def _tuples(
    rows: list[dict[str, Any]], columns: list[str], json_columns: set[str]
) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        yield tuple(json.dumps(row[c]) if c in json_columns else row[c] for c in columns)
