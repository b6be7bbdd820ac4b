"""Every hot query of the property store uses an index on the real PostgreSQL (issue 13, part 4).

50k synthetic works (with images, problems, two vector affinities and an
imported space) are written through the store's own batch writer, then
``VACUUM ANALYZE``. Each hot query is run through the store's own method
while its SQL is captured (``before_cursor_execute``), so the statements
checked are exactly the ones the code sends; each is then planned with
``EXPLAIN (FORMAT JSON)`` (a streamed read as ``DECLARE ... CURSOR``, which is
how psycopg runs it, with the cursor's fast-start planning) and must use the
named index with no sequential scan of the big table.

What is not here: the recommender's filters (date, source, license,
classification, has_image) and its title/artist search never reach SQL; they
run over NumPy columns of the served works in memory (``recommend/catalogue.py``).
Bulk reads of the whole collection (the catalogue load, ``phashes``, the
formal vectors, ``stats``) read nearly every row, where a sequential scan is
the right plan. Tables that stay a few rows long (checkpoints, pending files)
are looked up by primary key, and a planner may rightly scan them.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from asterism.shapes import Artwork, ImageFacts, Problem, Status
from asterism.store import Database
from asterism.store.base import Batch
from asterism.store.features import Embedding, ImageFeatures

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WORKS = 50_000
CHUNK = 5_000
SOURCES = ("aic", "met", "commons")
# one work in 20 is failed, one in 20 excluded, one in 20 has no image; the rest are active
STATUSES = [Status.ACTIVE] * 17 + [Status.NO_IMAGE, Status.EXCLUDED, Status.FAILED]
INDEX_NODES = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}

# As tests/conftest.py (imported by name, "conftest" would resolve to another folder's conftest).
PG_URL = os.environ.get("ASTERISM_TEST_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")


def _image(n: int) -> ImageFacts:
    sha = f"{n:064x}"
    return ImageFacts(
        sha256=sha, phash=f"{n:016x}", width=640, height=480, mime="image/jpeg",
        path=f"images/{sha[:2]}/{sha[2:4]}/{sha}.jpg", bytes=50_000,
    )  # fmt: skip


def _work(n: int) -> Artwork:
    status = STATUSES[n % len(STATUSES)]
    title = f'Study {n}, "after" nature'
    return Artwork(
        source=SOURCES[n % len(SOURCES)], source_id=str(n), title=title, artist_name=f"Painter {n % 997}",
        date_start=1400 + n % 500, date_end=1405 + n % 500, culture=("French", "Dutch", "Japanese")[n % 3],
        classification="Painting", license_id="CC0-1.0", status=status,
        image=_image(n // 2) if status in (Status.ACTIVE, Status.EXCLUDED) else None,  # pairs share one image
    )  # fmt: skip


@dataclass
class Populated:
    database: Database
    ids: list[int]  # every artwork id, ascending
    seconds: float


@pytest.fixture(scope="module")
def populated() -> Iterator[Populated]:
    """A private schema (as ``pg_url``, once for the module) holding the synthetic collection."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    database = Database(f"{PG_URL}{separator}options=-csearch_path%3D{schema}")
    try:
        started = time.perf_counter()
        rng = np.random.default_rng(13)
        for start in range(0, WORKS, CHUNK):
            for source in SOURCES:
                works = [_work(n) for n in range(start, start + CHUNK) if SOURCES[n % len(SOURCES)] == source]
                images = list({w.image.sha256: w.image for w in works if w.image}.values())
                problems = [
                    Problem(source=source, source_id=w.source_id, stage="image", reason="unreadable")
                    for w in works
                    if w.status != Status.ACTIVE
                ]
                database.records.write_batch(Batch(source, works, images=images, problems=problems))
        with database.engine.connect() as conn:
            ids = [int(i) for i in conn.execute(sa.text("SELECT id FROM artworks ORDER BY id")).scalars()]
            shas = [str(s) for s in conn.execute(sa.text("SELECT sha256 FROM images")).scalars()]
        for start in range(0, len(shas), CHUNK):
            database.features.put_image_features([
                ImageFeatures(sha, "cnn", [("ship", 0.5)], [("#112233", 1.0)], rng.random(16, dtype=np.float32))
                for sha in shas[start : start + CHUNK]
            ])  # fmt: skip
        for affinity, dim in (("conceptual", 384), ("historical", 64)):
            for start in range(0, len(ids), CHUNK):
                database.features.put_embeddings([
                    Embedding(i, affinity, "minilm", f"{i:064x}", rng.random(dim, dtype=np.float32), "a document")
                    for i in ids[start : start + CHUNK]
                ])  # fmt: skip
        database.features.replace_affinity(
            "space:openclip",
            [
                Embedding(i, "space:openclip", "imported:openclip", "-", np.ones(8, np.float32))
                for i in ids[:500]
            ],
        )
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        yield Populated(database, ids, time.perf_counter() - started)
    finally:
        database.close()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: Any
    streamed: bool  # run through a server-side cursor (``yield_per``)


def captured(database: Database, call: Callable[[], object]) -> list[Statement]:
    """The statements ``call`` sends, as the driver gets them."""
    seen: list[Statement] = []

    def listen(_conn: Any, _cursor: Any, sql: str, parameters: Any, context: Any, executemany: bool) -> None:
        streamed = bool(context is not None and context.execution_options.get("stream_results"))
        seen.append(Statement(sql, parameters[0] if executemany else parameters, streamed))

    sa.event.listen(database.engine, "before_cursor_execute", listen)
    try:
        result = call()
        if isinstance(result, Iterator):
            for _ in result:  # a generator sends its query when first read
                pass
    finally:
        sa.event.remove(database.engine, "before_cursor_execute", listen)
    return [
        s
        for s in seen
        if s.sql.lstrip().split(None, 1)[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE")
    ]


@dataclass
class Plan:
    text: str
    indexes: set[str]  # indexes read (scans) or used as ON CONFLICT arbiters
    seq_scans: set[str]  # tables read sequentially


def explain(database: Database, statement: Statement) -> Plan:
    prefix = "EXPLAIN (FORMAT JSON) " + ("DECLARE probe NO SCROLL CURSOR FOR " if statement.streamed else "")
    with database.engine.connect() as conn:
        raw = conn.exec_driver_sql(prefix + statement.sql, statement.parameters).scalar()
        conn.rollback()
    document = json.loads(raw) if isinstance(raw, str) else raw
    indexes: set[str] = set()
    seq_scans: set[str] = set()
    lines: list[str] = []

    def walk(node: dict[str, Any], depth: int) -> None:
        kind = node["Node Type"]
        lines.append(
            "  " * depth + f"{kind} {node.get('Relation Name', '')} {node.get('Index Name', '')}".rstrip()
        )
        if kind in INDEX_NODES:
            indexes.add(node["Index Name"])
        if kind == "Seq Scan":
            seq_scans.add(node["Relation Name"])
        indexes.update(node.get("Conflict Arbiter Indexes", []))
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(document[0]["Plan"], 0)
    return Plan("\n".join(lines), indexes, seq_scans)


# (what, the call, {first words of a statement it sends: (the index it must use, "a|b" for either,
#  the table it must never read sequentially)})
HotQuery = tuple[str, Callable[[Populated], object], dict[str, tuple[str, str]]]


def _ingest_batch(p: Populated) -> object:
    """The ingest's per-page write: upserts, ids back, a duplicate link, problems, cursor, journal."""
    records = p.database.records
    works = [_work(n) for n in range(0, 3 * 64, 3)] + [_work(n) for n in range(WORKS + 1, WORKS + 49, 3)]
    images = [w.image for w in works if w.image]
    records.mark_pending([i.sha256 for i in images])
    batch = Batch(
        "aic", works, images=images, resolved=[w.source_id for w in works[:32]],
        problems=[Problem(source="aic", source_id=works[40].source_id, stage="image", reason="again")],
        checkpoint_key="all", cursor={"page": 2},
    )  # fmt: skip
    return records.write_batch(batch, links={works[1].source_id: ("aic", works[0].source_id)})


HOT: list[HotQuery] = [
    ("artwork by id", lambda p: p.database.records.artwork(p.ids[WORKS // 2]),
     {"SELECT": ("artworks_pkey", "artworks")}),
    ("artwork by source:source_id", lambda p: p.database.records.artwork_by_key("met", "30001"),
     {"SELECT": ("uq_artworks_source_key", "artworks")}),
    ("known records of an ingest page", lambda p: p.database.records.known("aic", [str(n) for n in range(0, 600, 3)]),
     {"SELECT": ("uq_artworks_source_key", "artworks")}),
    ("works sharing an image", lambda p: p.database.records.artwork_ids_for_image(f"{777:064x}"),
     {"SELECT": ("ix_artworks_image_sha256", "artworks")}),
    ("image by sha256", lambda p: p.database.records.image(f"{777:064x}"),
     {"SELECT": ("images_pkey", "images")}),
    # streamed through a cursor, planned for the first rows fast: the id order of the primary key
    ("works of a status (failed), streamed", lambda p: p.database.records.artworks(status="failed"),
     {"SELECT": ("ix_artworks_status|artworks_pkey", "artworks")}),
    ("ingest batch write", _ingest_batch, {
        "INSERT INTO images": ("images_pkey", "images"),
        "INSERT INTO artworks": ("uq_artworks_source_key", "artworks"),
        "SELECT artworks.id": ("uq_artworks_source_key", "artworks"),
        "UPDATE artworks": ("artworks_pkey", "artworks"),
        "INSERT INTO problems": ("uq_problems_item_stage", "problems"),
        "DELETE FROM problems": ("uq_problems_item_stage", "problems"),
    }),
    ("image features of result images", lambda p: p.database.features.image_features(f"{n:064x}" for n in range(0, 4000, 97)),
     {"SELECT": ("image_features_pkey", "image_features")}),
    ("which vectors are up to date", lambda p: p.database.features.embedding_inputs("conceptual"),
     {"SELECT": ("ix_embeddings_affinity_artwork", "embeddings")}),
    # every work has both affinities here, so the (smaller) primary key in id order is as good
    ("one affinity's vectors, streamed by id", lambda p: p.database.features.load("historical"),
     {"SELECT": ("ix_embeddings_affinity_artwork|embeddings_pkey", "embeddings")}),
    ("imported spaces at server start", lambda p: p.database.features.spaces(),
     {"SELECT": ("ix_embeddings_affinity_artwork", "embeddings")}),
    ("concept documents of results", lambda p: p.database.features.documents(p.ids[100:120]),
     {"SELECT": ("embeddings_pkey", "embeddings")}),
]  # fmt: skip


def test_every_hot_query_uses_its_index(populated: Populated) -> None:
    failures, report = [], []
    for what, call, expected in HOT:
        statements = captured(populated.database, lambda call=call: call(populated))  # type: ignore[misc]
        for prefix, (index, table) in expected.items():
            matching = [s for s in statements if s.sql.lstrip().startswith(prefix)]
            if not matching:
                failures.append(f"{what}: sent no statement starting {prefix!r}")
                continue
            for statement in matching:
                plan = explain(populated.database, statement)
                report.append(f"{what} [{prefix}]: {sorted(plan.indexes)}")
                if not plan.indexes & set(index.split("|")) or table in plan.seq_scans:
                    failures.append(f"{what}: wanted {index}, no seq scan of {table}; plan:\n{plan.text}")
    print("\n".join(report))
    assert not failures, "\n\n".join(failures)


def test_the_new_index_is_the_one_migration_0006_names(populated: Populated) -> None:
    with populated.database.engine.connect() as conn:
        definition = conn.execute(
            sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_embeddings_affinity_artwork'")
        ).scalar()
    assert definition is not None
    assert "(affinity varchar_pattern_ops, artwork_id) INCLUDE (model, input_hash)" in definition
