"""Adapters for the two sample sets in ``shared/data``, read as local collections.

Both are Art Institute of Chicago material selected by third parties; the
adapters map their files to the local-collection format and drop the
third party's invented scores (tier, flags, value, price), which are not
museum data. Six artworks appear in both sets: they are linked as
(near-)duplicates by the pipeline, as any cross-collection copy would be.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from asterism.sources.base import SourceError
from asterism.sources.local import LocalSource, Row, parse_list

AIC = "Art Institute of Chicago"
INVENTED = {"tier", "portrait_flag", "masterpiece_flag", "value_score", "price_text"}


def _paintings(folder: Path) -> Iterator[tuple[int, Row | str]]:
    """aic-paintings/artworks.json: public-domain paintings (AIC marks their images CC0)."""
    items = json.loads((folder / "artworks.json").read_text(encoding="utf-8"))
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict) or "id" not in item:
            yield number, f"item {number}: not an artwork object"
            continue
        yield (
            number,
            {
                "id": item["id"],
                "image": f"images/{item['id']}.jpg",
                "title": item.get("title"),
                "artist": item.get("artist"),
                "date": item.get("date"),
                "medium": item.get("medium"),
                "classification": "painting",
                "license": "CC0 (public-domain work, Art Institute of Chicago open access)",
                "source_url": f"https://www.artic.edu/artworks/{item['id']}",
                "image_url": item.get("image_url"),
                "collection": AIC,
                "aic_image_id": item.get("image_id"),
            },
        )


def _objects(folder: Path) -> Iterator[tuple[int, Row | str]]:
    """aic-objects/metadata.csv: mixed objects with AIC curator vocabulary; license not kept."""
    with (folder / "metadata.csv").open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), 2):
            classification = parse_list(row.get("classification"))
            yield (
                number,
                {
                    "id": row.get("id"),
                    "image": f"images/{row.get('filename')}",
                    "title": row.get("title"),
                    "artist": row.get("artist"),
                    "date": row.get("year", "").removesuffix(".0"),
                    "classification": classification[0] if classification else None,
                    "subjects": parse_list(row.get("terms")),
                    "styles": parse_list(row.get("style")),
                    "credit_line": row.get("credit_line"),
                    "license": row.get("license"),
                    "source_url": f"https://www.artic.edu/artworks/{row.get('id')}",
                    "image_url": row.get("image_url"),
                    "collection": AIC,
                    "department": row.get("department"),
                    "categories": parse_list(row.get("categories")),
                    "classifications": classification,
                },
            )


def sample_source(folder: Path, *, page_size: int = 64, limit: int | None = None) -> LocalSource:
    """A LocalSource over a sample folder, recognised by its metadata file."""
    if (folder / "artworks.json").is_file():
        rows = _paintings
    elif (folder / "metadata.csv").is_file():
        rows = _objects
    else:
        raise SourceError(f"{folder} is not a known sample set (no artworks.json or metadata.csv)")
    return LocalSource(
        folder, collection=folder.name, rows=lambda: rows(folder), page_size=page_size, limit=limit
    )
