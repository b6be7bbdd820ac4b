"""The Met's Open Access bulk file ``MetObjects.csv`` as a metadata source.

The CSV (https://github.com/metmuseum/openaccess, ~480,000 rows, ~300 MB)
holds every object's catalogue data but no image URLs, so its records carry
no image (``SourceRecord.image`` is None and ``fetch_image`` refuses): they
enrich the property store and the knowledge graph (artists, cultures,
periods, tags). Images come from the API source (``asterism ingest met``).

The records are keyed ``("met-csv", Object ID)``, not ``("met", ...)``: the
store upserts by key, and an image-less CSV row written over the API's record
of the same object would drop the image that record had.

The file is streamed row by row (never loaded whole; a leading UTF-8 BOM is
accepted); the cursor is the number of data rows already read. Multi-valued
columns (artists, nationalities, tags) use "|".
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from asterism.shapes import Artwork
from asterism.sources.base import ImageRef, Page, SourceError, SourceRecord
from asterism.sources.met import NOT_PUBLIC, PUBLIC_DOMAIN

SOURCE = "met-csv"
EXTRAS = (
    "Department",
    "Object Number",
    "Object Name",
    "Repository",
    "Artist ULAN URL",
    "Artist Wikidata URL",
    "Object Wikidata URL",
)
REQUIRED = {"Object ID", "Title", "Is Public Domain"}


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split("|") if part.strip()]


def _year(value: str | None) -> int | None:
    try:
        return int(float(value)) if value not in (None, "") else None
    except ValueError:
        return None


def parse_row(row: dict[str, str]) -> Artwork:
    object_id = (row.get("Object ID") or "").strip()
    if not object_id.isdigit():
        raise SourceError(f"row without a numeric Object ID ({object_id!r})")
    public = (row.get("Is Public Domain") or "").strip().lower() == "true"
    names = _split(row.get("Artist Display Name"))
    bios = _split(row.get("Artist Display Bio"))
    artist = names[0] if names else None
    place = ", ".join(p for p in (row.get("City"), row.get("State"), row.get("Country")) if p) or None
    return Artwork(
        source=SOURCE,
        source_id=object_id,
        collection="The Metropolitan Museum of Art",
        title=row.get("Title") or row.get("Object Name") or "",
        artist_name=artist,
        artist_display=f"{artist} ({bios[0]})" if artist and bios else artist,
        date_display=row.get("Object Date") or None,
        date_start=_year(row.get("Object Begin Date")),
        date_end=_year(row.get("Object End Date")),
        culture=row.get("Culture") or next(iter(_split(row.get("Artist Nationality"))), None),
        place=place,
        classification=row.get("Classification") or row.get("Object Name") or None,
        medium=row.get("Medium") or None,
        subjects=_split(row.get("Tags")),
        styles=[p for p in (row.get("Period"), row.get("Dynasty")) if p],
        credit_line=row.get("Credit Line") or None,
        license=PUBLIC_DOMAIN if public else NOT_PUBLIC,
        license_id="public-domain" if public else "unknown",
        source_url=row.get("Link Resource") or f"https://www.metmuseum.org/art/collection/search/{object_id}",
        extras={k: row[k] for k in EXTRAS if row.get(k)},
    )


class MetCsvSource:
    """Rows of MetObjects.csv (optionally public-domain only) as image-less records."""

    name = SOURCE

    def __init__(
        self, path: Path, *, public_domain: bool = True, limit: int | None = None, page_size: int = 500
    ) -> None:
        if not path.is_file():
            raise SourceError(
                f"{path} not found (download MetObjects.csv from github.com/metmuseum/openaccess)"
            )
        self.path = path
        self.key = f"met-csv:{path.name}:{'pd' if public_domain else 'all'}"
        self.public_domain = public_domain
        self.limit = limit
        self.page_size = max(1, page_size)
        self.total: int | None = limit

    def _rows(self, skip: int) -> Iterator[tuple[int, dict[str, str]]]:
        with self.path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = REQUIRED - set(reader.fieldnames or [])
            if missing:
                raise SourceError(f"{self.path.name} is not MetObjects.csv: missing {sorted(missing)}")
            yield from itertools.islice(enumerate(reader), skip, None)

    async def pages(self, cursor: dict[str, Any] | None) -> AsyncIterator[Page]:
        offset = int((cursor or {}).get("offset", 0))
        kept = int((cursor or {}).get("kept", 0))
        rows = self._rows(offset)
        while True:
            try:
                batch = list(itertools.islice(rows, self.page_size))
            except csv.Error as exc:  # e.g. an unclosed quote swallowing the rest of the file
                raise SourceError(f"{self.path.name}: unreadable after data row {offset}: {exc}") from exc
            records: list[SourceRecord] = []
            problems: list[tuple[str, str]] = []
            for number, row in batch:
                offset = number + 1
                if self.limit is not None and kept >= self.limit:
                    break
                if self.public_domain and (row.get("Is Public Domain") or "").strip().lower() != "true":
                    continue
                try:
                    records.append(SourceRecord(parse_row(row), None))
                    kept += 1
                except (SourceError, ValueError) as exc:
                    problems.append((row.get("Object ID") or f"row {number + 2}", str(exc)))
            finished = len(batch) < self.page_size or (self.limit is not None and kept >= self.limit)
            yield Page(records, None if finished else {"offset": offset, "kept": kept}, problems)
            if finished:
                return

    async def fetch_image(self, ref: ImageRef) -> bytes:
        raise SourceError("MetObjects.csv has no images; ingest the objects through the Met API for images")

    async def aclose(self) -> None:
        return None
