"""The property store behaves the same on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from asterism.shapes import Artwork, ImageFacts, Problem, Status
from asterism.store import Database, PropertyStore
from asterism.store.base import Batch
from asterism.store.schema import metadata


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    opened = Database(url)
    yield opened
    opened.close()


@pytest.fixture
def store(database: Database) -> PropertyStore:
    return database.records


def facts(n: int) -> ImageFacts:
    sha = f"{n:064x}"
    return ImageFacts(
        sha256=sha,
        phash=f"{n:016x}",
        width=10,
        height=20,
        mime="image/jpeg",
        path=f"images/{sha[:2]}/{sha[2:4]}/{sha}.jpg",
        bytes=123,
        metadata={"exif:Artist": "Someone"},
        thumbs={"thumb": f"thumbs/thumb/{sha}.jpg"},
    )


def artwork(n: int, **kw: object) -> Artwork:
    base: dict[str, object] = {
        "source": "local",
        "source_id": f"c/{n}",
        "title": f"Work {n}",
        "subjects": ["harbour", "boats"],
        "date_start": 1870,
        "date_end": 1879,
        "license_id": "public-domain",
    }
    base.update(kw)
    return Artwork(**base)  # type: ignore[arg-type]


def test_migrations_match_the_schema(database: Database) -> None:
    with database.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upsert_is_idempotent_and_round_trips(store: PropertyStore) -> None:
    image = facts(1)
    batch = Batch(
        source="local", artworks=[artwork(1, image=image)], images=[image], fingerprints={"c/1": "f1"}
    )
    ids = store.write_batch(batch)
    again = store.write_batch(batch)
    assert ids == again
    assert store.count() == 1
    stored = store.artwork(ids["c/1"])
    assert stored is not None
    assert stored.subjects == ["harbour", "boats"]
    assert stored.image == image
    assert stored.status == Status.ACTIVE
    assert store.known("local", ["c/1", "c/2"])["c/1"].fingerprint == "f1"


def test_update_changes_fields_but_keeps_the_id(store: PropertyStore) -> None:
    ids = store.write_batch(Batch(source="local", artworks=[artwork(1)]))
    ids2 = store.write_batch(Batch(source="local", artworks=[artwork(1, title="Renamed")]))
    assert ids == ids2
    renamed = store.artwork_by_key("local", "c/1")
    assert renamed is not None and renamed.title == "Renamed"


def test_checkpoint_saved_with_batch_and_cleared_when_finished(store: PropertyStore) -> None:
    store.write_batch(Batch(source="aic", checkpoint_key="aic:all", cursor={"page": 3}))
    assert store.get_checkpoint("aic", "aic:all") == {"page": 3}
    store.write_batch(Batch(source="aic", checkpoint_key="aic:all", cursor=None, finished=True))
    assert store.get_checkpoint("aic", "aic:all") is None


def test_problems_are_reported_once_and_resolved(store: PropertyStore) -> None:
    problem = Problem(source="local", source_id="c/9", stage="image", reason="not an image")
    store.write_batch(Batch(source="local", problems=[problem]))
    store.write_batch(Batch(source="local", problems=[problem.model_copy(update={"reason": "still bad"})]))
    assert [p.reason for p in store.problems()] == ["still bad"]
    store.write_batch(Batch(source="local", resolved=["c/9"]))
    assert store.problems() == []


def test_links_resolve_keys_within_the_same_batch(store: PropertyStore) -> None:
    batch = Batch(source="local", artworks=[artwork(1), artwork(2)])
    ids = store.write_batch(batch, links={"c/2": ("local", "c/1")})
    linked = store.artwork(ids["c/2"])
    assert linked is not None and linked.duplicate_of == ids["c/1"]


def test_orphan_journal(store: PropertyStore) -> None:
    store.mark_pending(["a" * 64, facts(5).sha256])
    store.write_batch(Batch(source="local", images=[facts(5)]))
    assert store.take_orphans() == ["a" * 64]
    assert store.take_orphans() == []


def test_stats_count_by_source_license_status(store: PropertyStore) -> None:
    store.write_batch(
        Batch(
            source="local",
            artworks=[
                artwork(1),
                artwork(2, license_id="unknown", status=Status.EXCLUDED, status_reason="license unknown"),
            ],
        )
    )
    stats = store.stats()
    assert stats["artworks"] == 2
    assert stats["by_source"] == {"local": 2}
    assert stats["by_license"] == {"public-domain": 1, "unknown": 1}
    assert stats["by_status"] == {"active": 1, "excluded": 1}
