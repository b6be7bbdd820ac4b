"""Only a servable work can be the original of a duplicate group.

Two copies of one picture, one under a licence the policy excludes and one in
the public domain: whichever arrives first, in one run or two, the
public-domain copy is the one served. (Before, the excluded copy could become
the "original" and hide both.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asterism.config import Settings
from asterism.ingest.pipeline import ingest
from asterism.recommend.catalogue import Catalogue
from asterism.shapes import Status
from asterism.sources.local import LocalSource
from asterism.store import open_database

import imagegen

SIZE = (96, 64)


def write(folder: Path, records: list[tuple[str, bytes, str]]) -> None:
    """A local collection of (id, image bytes, license) records, in that order."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    lines = []
    for record_id, data, license_text in records:
        (folder / "images" / f"{record_id}.jpg").write_bytes(data)
        lines.append(
            json.dumps(
                {
                    "id": record_id,
                    "image": f"images/{record_id}.jpg",
                    "title": record_id,
                    "license": license_text,
                }
            )
        )
    (folder / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(settings: Settings, folder: Path) -> None:
    ingest(settings, LocalSource(folder, page_size=settings.batch_size))


@pytest.mark.parametrize("copy", ["exact", "near"])
@pytest.mark.parametrize("runs", ["one run", "two runs"])
def test_the_public_domain_copy_is_served(settings: Settings, tmp_path: Path, copy: str, runs: str) -> None:
    picture = imagegen.jpeg(7, SIZE)
    if copy == "exact":
        other = picture
    else:  # the same picture, smaller and recompressed: a near duplicate by perceptual hash
        other = imagegen.encode(
            imagegen.picture(7, SIZE).resize((SIZE[0] // 2, SIZE[1] // 2)), "JPEG", quality=70
        )
    excluded = ("nc", picture, "CC BY-NC-ND 4.0")
    public = ("pd", other, "Public domain")
    folder = tmp_path / "copies"
    if runs == "one run":
        write(folder, [excluded, public])
        run(settings, folder)
    else:
        write(folder, [excluded])
        run(settings, folder)
        write(folder, [excluded, public])
        run(settings, folder)

    database = open_database(settings)
    try:
        nc = database.records.artwork_by_key("local", "copies/nc")
        pd = database.records.artwork_by_key("local", "copies/pd")
        assert nc is not None and pd is not None
        assert nc.status == Status.EXCLUDED and pd.status == Status.ACTIVE
        assert pd.duplicate_of is None, "the public-domain copy must not hide behind the excluded one"
        served = Catalogue(list(database.records.artworks()), settings.license)
        assert pd.id in served and nc.id not in served
        assert nc.id is not None and "CC-BY-NC-ND" in (served.refusal(nc.id) or "")
    finally:
        database.close()


def test_an_excluded_copy_joins_the_served_original(settings: Settings, tmp_path: Path) -> None:
    """The other order: the public-domain copy first, the excluded copy is linked to it as its duplicate."""
    folder = tmp_path / "copies"
    picture = imagegen.jpeg(8, SIZE)
    write(folder, [("pd", picture, "Public domain"), ("nc", picture, "CC BY-NC-ND 4.0")])
    run(settings, folder)
    database = open_database(settings)
    try:
        nc = database.records.artwork_by_key("local", "copies/nc")
        pd = database.records.artwork_by_key("local", "copies/pd")
        assert nc is not None and pd is not None
        assert pd.duplicate_of is None and nc.duplicate_of == pd.id
    finally:
        database.close()
