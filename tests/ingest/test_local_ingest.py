"""End to end: a local folder with good and hostile items into the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from asterism.config import Settings, StoreSettings
from asterism.images.store import ContentStore
from asterism.ingest.pipeline import ingest as run_ingest
from asterism.shapes import IngestReport, Status
from asterism.sources.local import LocalSource
from asterism.store import PropertyStore, open_database

from collection import write_collection


def ingest(settings: Settings, folder: Path, refresh: bool = False) -> tuple[IngestReport, PropertyStore]:
    report = run_ingest(settings, LocalSource(folder, page_size=settings.batch_size), refresh=refresh)
    return report, open_database(settings).records


@pytest.fixture(params=["sqlite", "postgres"])
def any_backend(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The same settings on the embedded SQLite store or the real PostgreSQL server."""
    if request.param == "sqlite":
        return settings
    return settings.model_copy(
        update={"store": StoreSettings(backend="postgres", url=request.getfixturevalue("pg_url"))}
    )


@pytest.fixture
def collection(tmp_path: Path) -> tuple[Path, dict]:
    folder = tmp_path / "my collection"
    return folder, write_collection(folder)


def test_every_item_is_stored_or_reported_once(any_backend: Settings, collection: tuple[Path, dict]) -> None:
    folder, kinds = collection
    report, store = ingest(any_backend, folder)
    by_id = {a.source_id.split("/", 1)[1]: a for a in store.artworks()}
    for record_id in kinds["good"]:
        assert by_id[record_id].image is not None, record_id
    assert by_id["g0"].status == Status.ACTIVE
    assert by_id["nc"].status == Status.EXCLUDED
    assert "CC-BY-NC" in (by_id["nc"].status_reason or "")
    for record_id in kinds["bad_image"]:
        assert by_id[record_id].status == Status.FAILED, record_id
        assert by_id[record_id].status_reason
    problems = {p.source_id.split("/", 1)[1]: p for p in store.problems()}
    record_problems = [p for p in problems.values() if p.stage == "record"]
    assert {k for k, p in problems.items() if p.stage == "image"} == set(kinds["bad_image"])
    assert sorted(p.reason.split(":", 1)[1].strip()[:12] for p in record_problems) == [
        "invalid JSON",
        "missing id",
    ]
    assert "empty file" in problems["zero"].reason
    assert "not an image" in problems["text"].reason
    assert "pixels" in problems["bomb"].reason
    assert "not found" in problems["missing"].reason
    assert "leaves the collection folder" in problems["escape"].reason
    assert report.failed == len(kinds["bad_image"])
    assert report.seen == sum(len(v) for v in kinds.values())


def test_fields_are_normalised(settings: Settings, collection: tuple[Path, dict]) -> None:
    folder, _ = collection
    _, store = ingest(settings, folder)
    work = store.artwork_by_key("local", "my-collection/g2")
    assert work is not None
    assert work.artist_name == "Berthe Morisot"
    assert work.culture == "French"
    assert work.date_start is not None and work.date_start <= 1875 <= (work.date_end or 0)
    assert work.subjects == ["harbour", "boats"]
    assert work.extras["museum_room"] == "room 2"
    assert work.license_id.startswith("CC0")
    assert work.attribution.startswith("Berthe Morisot – Work g2 (c. 1875) – my-collection – ")
    assert work.image is not None and work.image.width == 96 and work.image.mime == "image/jpeg"
    assert settings.paths.file(work.image.path).is_file()
    for path in work.image.thumbs.values():
        assert settings.paths.file(path).is_file()


def test_exact_and_near_duplicates_are_linked_not_stored_twice(
    settings: Settings, collection: tuple[Path, dict]
) -> None:
    folder, _ = collection
    report, store = ingest(settings, folder)
    g0 = store.artwork_by_key("local", "my-collection/g0")
    dup = store.artwork_by_key("local", "my-collection/dup")
    g1 = store.artwork_by_key("local", "my-collection/g1")
    near = store.artwork_by_key("local", "my-collection/near")
    assert g0 and dup and g1 and near
    assert dup.image and g0.image and dup.image.sha256 == g0.image.sha256
    assert dup.duplicate_of == g0.id
    assert near.duplicate_of == g1.id
    assert report.duplicates == 1 and report.near_duplicates == 1
    shas = ContentStore(settings.paths, settings.images.thumb_sizes).all_shas()
    assert len(shas) == store.stats()["images"]


def test_rerun_skips_unchanged_and_picks_up_edits(
    any_backend: Settings, collection: tuple[Path, dict]
) -> None:
    settings = any_backend
    folder, _ = collection
    first, store = ingest(settings, folder)
    count, problems = store.count(), len(store.problems())
    second, store = ingest(settings, folder)
    assert store.count() == count
    assert len(store.problems()) == problems
    assert second.images_processed == 0
    assert second.skipped == first.stored - first.failed  # failed items are retried, the rest skipped
    records = (
        (folder / "records.jsonl").read_text().replace('"title": "Work g3"', '"title": "Harbour at dusk"')
    )
    (folder / "records.jsonl").write_text(records)
    third, store = ingest(settings, folder)
    assert third.images_processed == 0
    edited = store.artwork_by_key("local", "my-collection/g3")
    assert edited is not None and edited.title == "Harbour at dusk"


def test_a_home_whose_images_folder_is_a_link_elsewhere_ingests(
    settings: Settings, collection: tuple[Path, dict], tmp_path: Path
) -> None:
    """``images/`` and ``thumbs/`` may live on another disk, linked into the home (``Home.file``
    allows it). Paths are recorded lexically under the home, so the links are followed when a
    file is read, not when its path is recorded (``resolve()`` left the home and raised)."""
    settings.paths.root.mkdir(parents=True, exist_ok=True)
    for name in ("images", "thumbs"):
        elsewhere = tmp_path / f"big disk {name}"
        elsewhere.mkdir()
        (settings.paths.root / name).symlink_to(elsewhere, target_is_directory=True)
    folder, kinds = collection
    report, store = ingest(settings, folder)
    assert report.failed == len(kinds["bad_image"])  # the hostile pictures only
    work = store.artwork_by_key("local", "my-collection/g2")
    assert work is not None and work.image is not None
    assert work.image.path.startswith("images/")
    assert settings.paths.file(work.image.path).is_file()
    assert (tmp_path / "big disk images" / Path(work.image.path).relative_to("images")).is_file()
    for path in work.image.thumbs.values():
        assert path.startswith("thumbs/") and settings.paths.file(path).is_file()
