"""The catalogue snapshot: the build writes it, a server maps it, and it answers as reading every record did.

Compared throughout with ``Catalogue(records, policy)``, the path that reads
every record from the store: the same ids, records, withheld works with the
same reasons, names, searches and filters. A stale snapshot (a record changed
since the build) or a partial one is never used.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from asterism.config import LicenseSettings, Settings, load_settings
from asterism.embed.registry import Models
from asterism.recommend import snapshot
from asterism.recommend.catalogue import Catalogue
from asterism.recommend.query import Filters
from asterism.recommend.service import Service, open_service
from asterism.recommend.snapshot import MappedRecords, Snapshot
from asterism.shapes import Artwork, ImageFacts, Status
from asterism.stages.snapshots import write_snapshots
from asterism.store import Database, open_database
from asterism.store.base import Batch
from asterism.store.ocr import OcrResult

POLICIES = [
    LicenseSettings(),
    LicenseSettings(allow_unknown=True),
    LicenseSettings(allowed=["CC0"]),
    LicenseSettings(allowed=["CC-BY-NC", "public-domain"], allow_unknown=True),
    LicenseSettings(allowed=[]),
]


def stored_works(settings: Settings) -> list[Artwork]:
    with open_database(settings) as database:
        return [a for a in database.records.artworks() if a.embeddable]


def same_catalogue(mapped: Catalogue, read: Catalogue) -> None:
    """Everything the served-works class answers, asked of both."""
    assert mapped.ids.tolist() == read.ids.tolist()
    assert mapped.withheld == read.withheld
    assert list(mapped.records) == list(read.records) and len(mapped.records) == len(read.records)
    assert list(mapped.records.values()) == list(read.records.values())
    assert dict(mapped.records.items()) == dict(read.records.items())
    for work in [*read.records.values(), *(Artwork(source="x", source_id="y"),)]:
        assert mapped.lookup(work.ref) == read.lookup(work.ref)
        assert mapped.refusal(work.ref) == read.refusal(work.ref)
    for withheld in read.withheld:
        assert mapped.refusal(withheld) == read.refusal(withheld) and mapped.get(withheld) is None
    assert (10**9 in mapped) is False and mapped.get(10**9) is None and mapped.lookup("local:nothing") is None
    ids = mapped.ids
    assert mapped.many([*ids[:5].tolist(), 10**9]) == read.many([*ids[:5].tolist(), 10**9])
    assert mapped.pictured().tolist() == [i for i, a in read.records.items() if a.image is not None]
    sources = {a.source for a in read.records.values()}
    licenses = {a.license_id for a in read.records.values()}
    kinds = {(a.classification or "").upper() for a in read.records.values()}
    for filters in [
        Filters(sources=frozenset(sources)),
        Filters(sources=frozenset({"nowhere"})),
        Filters(licenses=frozenset(list(licenses)[:1] or ["x"])),
        Filters(classifications=frozenset(list(kinds)[:1] or ["x"])),
        Filters(date_from=1850, date_to=1900),
        Filters(date_to=1700),
        Filters(has_image=True),
        Filters(has_image=False),
    ]:
        got, expected = mapped.admitted(filters), read.admitted(filters)
        assert got is not None and expected is not None and got.tolist() == expected.tolist()
        asked = [*ids.tolist(), 10**9, -1]
        assert mapped.allowed(asked, filters).tolist() == read.allowed(asked, filters).tolist()


# ----------------------------------------------------------------------------- on the built samples
def test_the_build_wrote_a_current_snapshot_that_the_service_maps(built: Settings, service: Service) -> None:
    assert isinstance(service.catalogue.records, MappedRecords)  # not read from the store
    read = Catalogue(stored_works(built), built.license)
    same_catalogue(service.catalogue, read)
    titles = [a.title for a in read.records.values()]
    for text in [titles[0], titles[7].split()[0], "portrait", "monet", "van", "zzz-nothing", ""]:
        assert service.catalogue.search(text) == read.search(text)
    work = read.records[int(read.ids[3])]
    assert service.catalogue.search(work.title, limit=3) == read.search(work.title, limit=3)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: f"{p.allowed}-{p.allow_unknown}")
def test_a_policy_applied_per_licence_class_withholds_what_reading_every_record_does(
    built: Settings, policy: LicenseSettings
) -> None:
    mapped = Snapshot.load(built.paths.current().catalogue)
    assert mapped is not None
    same_catalogue(Catalogue.mapped(mapped, policy), Catalogue(stored_works(built), policy))


# ----------------------------------------------------------------------------- policy classes
def work(n: int, text: str | None, license_id: str, status: Status = Status.ACTIVE, **kw: object) -> Artwork:
    image = ImageFacts(sha256=f"{n:064x}", phash="0" * 16, width=4, height=4, mime="image/jpeg",
                       path=f"images/{n}.jpg", bytes=10) if n % 3 else None  # fmt: skip
    fields: dict[str, object] = {"source": "local" if n % 2 else "aic", "source_id": f"w{n}", "id": n,
                                 "title": f"Étude {n}", "license": text, "license_id": license_id,
                                 "status": status, "image": image, "classification": "Painting" if n % 4 else None,
                                 "date_start": 1800 + n if n % 5 else None, "date_end": 1810 + n if n % 5 else None}  # fmt: skip
    fields.update(kw)
    return Artwork(**fields)  # type: ignore[arg-type]


MIXED = [
    work(1, "Creative Commons Attribution-No Derivative Works 3.0", "CC-BY"),  # misread at ingest
    work(2, "CC BY 4.0", "CC-BY-4.0"),
    work(3, "Public domain (is_public_domain)", "public-domain"),
    work(4, "", "unknown"),
    work(5, "CC BY-SA 2.0 fr", "CC-BY-SA-2.0-FR"),
    work(6, "CC0", "CC0-1.0"),
    work(7, "CC BY-NC 4.0", "CC-BY-NC-4.0", Status.EXCLUDED),
    work(8, "CC BY-NC 4.0", "CC-BY-NC-4.0"),
    work(9, None, "CC-BY-4.0", extras={"license_url": "https://creativecommons.org/licenses/by-nd/4.0/"}),
    work(10, "CC BY 4.0", "CC-BY-4.0"),  # the same class as work 2
    work(11, "Public domain (is_public_domain)", "public-domain", Status.EXCLUDED),
    work(12, None, "CC0-1.0", extras={"license_url": 42}),  # not a URL: judged as no URL
]


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: f"{p.allowed}-{p.allow_unknown}")
def test_every_licence_class_is_judged_as_its_records_are(tmp_path: Path, policy: LicenseSettings) -> None:
    snapshot.save(tmp_path, list(reversed(MIXED)), {"fingerprint": {}})
    mapped = Snapshot.load(tmp_path)
    assert mapped is not None and len(mapped.classes) < len(MIXED)
    catalogue, read = Catalogue.mapped(mapped, policy), Catalogue(MIXED, policy)
    same_catalogue(catalogue, read)
    for i in range(1, 13):
        assert catalogue.refusal(i) == read.refusal(i)
        assert catalogue.refusal(f"{MIXED[i - 1].source}:w{i}") == read.refusal(f"{MIXED[i - 1].source}:w{i}")
    assert catalogue.get(1) == read.get(1)  # a relabelled licence id (ND read again) where served


def test_the_narrowed_default_policy_withholds_with_the_same_reasons(tmp_path: Path) -> None:
    snapshot.save(tmp_path, MIXED, {})
    mapped = Snapshot.load(tmp_path)
    assert mapped is not None
    catalogue = Catalogue.mapped(mapped, LicenseSettings(allowed=["CC0"]))
    assert catalogue.ids.tolist() == [6, 12]
    assert "license public-domain is not allowed" in (catalogue.refusal(3) or "")
    assert "ingest again" in (
        Catalogue.mapped(mapped, LicenseSettings(allowed=["CC-BY-NC"])).refusal(7) or ""
    )
    assert catalogue.withheld == Catalogue(MIXED, LicenseSettings(allowed=["CC0"])).withheld


def test_a_partial_snapshot_is_never_mapped(tmp_path: Path) -> None:
    snapshot.save(tmp_path, MIXED, {})
    assert Snapshot.load(tmp_path) is not None
    records = tmp_path / "records.jsonl"
    records.write_bytes(records.read_bytes()[:-5])  # a torn records file
    assert Snapshot.load(tmp_path) is None
    snapshot.save(tmp_path, MIXED, {})
    (tmp_path / "keys.npy").unlink()
    assert Snapshot.load(tmp_path) is None
    (tmp_path / snapshot.MANIFEST).unlink()  # what a killed save leaves: no manifest
    assert snapshot.manifest(tmp_path) is None and Snapshot.load(tmp_path) is None


def test_records_decode_to_what_was_stored_with_a_bounded_cache(tmp_path: Path) -> None:
    works = [work(n, "CC0", "CC0-1.0") for n in range(1, 40)]
    snapshot.save(tmp_path, works, {})
    mapped = Snapshot.load(tmp_path)
    assert mapped is not None
    assert [mapped.record(r) for r in range(len(works))] == works
    assert mapped.find("aic", "w2") == 1 and mapped.find("aic", "w3") is None
    records = Catalogue.mapped(mapped, LicenseSettings()).records
    assert isinstance(records, MappedRecords)
    records._cache.clear()
    limit = snapshot.RECORD_CACHE
    snapshot.RECORD_CACHE = 5
    try:
        assert list(records.values()) == works
        assert len(records._cache) == 5
    finally:
        snapshot.RECORD_CACHE = limit


# ----------------------------------------------------------------------------- staleness
@pytest.fixture
def copied(built: Settings, tmp_path: Path) -> Iterator[Settings]:
    """The built home copied, so its store can be changed without touching the session's."""
    shutil.copytree(built.paths.root, tmp_path / "home", symlinks=True)
    yield load_settings(home=tmp_path / "home", ocr={"mode": "never"}, painters_csv=built.painters_csv)


def test_a_record_changed_after_the_build_is_served_changed(
    copied: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    before = open_service(copied)
    try:
        assert isinstance(before.catalogue.records, MappedRecords)
        target = before.catalogue.records[int(before.catalogue.ids[5])]
    finally:
        before.close()
    with open_database(copied) as database:
        changed = target.model_copy(update={"title": "Retitled after the build", "id": None})
        database.records.write_batch(Batch(source=target.source, artworks=[changed]))
    with caplog.at_level(logging.INFO, logger="asterism.recommend.served"):
        after = open_service(copied)
    try:
        assert not isinstance(after.catalogue.records, MappedRecords)
        assert after.catalogue.get(target.id or 0) == target.model_copy(
            update={"title": "Retitled after the build"}
        )
        assert [w.id for w in after.catalogue.search("retitled")] == [target.id]
        assert any("the records changed since the build" in r.getMessage() for r in caplog.records)
    finally:
        after.close()


def test_the_snapshot_step_is_idempotent_and_follows_the_records(copied: Settings) -> None:
    home = copied.paths.current()
    models = Models.of(copied)
    with open_database(copied) as database:
        artworks = [a for a in database.records.artworks() if a.embeddable]
        fingerprint = database.records.fingerprint()
    model = models.historical(artworks)
    written = (home.catalogue / "ids.npy").stat().st_ino
    again = write_snapshots(home, artworks, fingerprint, model, models.painters_csv)
    assert again.catalogue == "unchanged" and not again.changed
    assert (home.catalogue / "ids.npy").stat().st_ino == written
    moved = write_snapshots(home, artworks, {**fingerprint, "updated": "later"}, model, models.painters_csv)
    assert moved.changed and moved.catalogue == f"wrote {len(artworks)} records"
    assert snapshot.manifest(home.catalogue) is not None


# ----------------------------------------------------------------------------- the fingerprint
@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    opened = Database(url)
    yield opened
    opened.close()


def test_every_write_of_a_record_moves_the_fingerprint(database: Database) -> None:
    store = database.records
    empty = store.fingerprint()
    assert store.fingerprint() == empty
    first = work(3, "CC0", "CC0-1.0", id=None)  # no image
    image = work(1, "CC0", "CC0-1.0", id=None)
    assert image.image is not None and first.image is None
    store.write_batch(Batch(source="local", artworks=[image], images=[image.image]))
    store.write_batch(Batch(source="local", artworks=[first]))
    written = store.fingerprint()
    assert written != empty and written["artworks"] == 2 and store.fingerprint() == written
    store.write_batch(Batch(source="local", artworks=[first.model_copy(update={"title": "Other"})]))
    retitled = store.fingerprint()
    assert retitled != written and retitled["artworks"] == 2
    database.ocr.put("reader", [OcrResult(image.image.sha256, "none")])  # read, no text: as before
    assert store.fingerprint() == retitled
    database.ocr.put("reader", [OcrResult(image.image.sha256, "text", "harbour")])
    read = store.fingerprint()
    assert read != retitled
    assert store.artwork_by_key("local", "w1").image.ocr_text == "harbour"  # type: ignore[union-attr]
    database.ocr.put("reader2", [OcrResult(image.image.sha256, "none")])  # the text is gone again:
    assert store.fingerprint() != read  # a snapshot holding "harbour" is stale,
    assert store.fingerprint() == retitled  # and the records are again those before it was read
    assert store.artwork_by_key("local", "w1").image.ocr_text == ""  # type: ignore[union-attr]
