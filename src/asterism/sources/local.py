"""Any collection on disk: a folder of images plus ``records.jsonl`` or ``records.csv``.

The format (documented in the README): one record per line/row with ``id`` and
``image`` (a path relative to the folder), and any of ``title, artist, date,
date_start, date_end, culture, place, classification, medium, subjects,
styles, description, license, source_url, credit_line, collection``; every
other column is kept in ``extras``. ``subjects``/``styles`` may be a JSON list,
a Python-style list string, or text separated by ``;`` or ``|``.

Records get ``source="local"`` and ``source_id="<collection>/<id>"`` so two
folders never collide. Image paths may not leave the folder.
"""

from __future__ import annotations

import ast
import asyncio
import csv
import json
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from asterism.shapes import Artwork
from asterism.sources.base import ImageRef, Page, SourceError, SourceRecord

KNOWN = {
    "id",
    "image",
    "title",
    "artist",
    "date",
    "date_start",
    "date_end",
    "culture",
    "place",
    "classification",
    "medium",
    "subjects",
    "styles",
    "description",
    "license",
    "source_url",
    "image_url",
    "credit_line",
    "collection",
}
Row = dict[str, Any]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "collection"


def parse_list(value: Any) -> list[str]:
    """A list from a JSON list, a Python-style list string, or ';'/'|'-separated text."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value).strip()
    if not text:
        return []
    if text.startswith("[") and text.endswith("]"):
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, list | tuple):
            return [str(v).strip() for v in parsed if str(v).strip()]
    return [part.strip() for part in re.split(r"[;|]", text) if part.strip()]


def _int_or_none(value: Any) -> int | None:
    try:
        return int(float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def read_records(folder: Path) -> Iterator[tuple[int, Row | str]]:
    """(line or row number, record) from records.jsonl / records.csv; a string is a parse error."""
    jsonl, csv_path = folder / "records.jsonl", folder / "records.csv"
    if jsonl.is_file():
        with jsonl.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    yield number, f"line {number}: invalid JSON ({exc})"
                    continue
                yield number, row if isinstance(row, dict) else f"line {number}: not a JSON object"
    elif csv_path.is_file():
        with csv_path.open(encoding="utf-8-sig", newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), 2):
                yield number, dict(row)
    else:
        raise SourceError(f"{folder} has neither records.jsonl nor records.csv")


class LocalSource:
    """Reads a folder collection (or rows given by a sample adapter)."""

    name = "local"

    def __init__(
        self,
        folder: Path,
        *,
        collection: str | None = None,
        rows: Callable[[], Iterable[tuple[int, Row | str]]] | None = None,
        page_size: int = 64,
        limit: int | None = None,
    ) -> None:
        self.folder = folder.resolve()
        if not self.folder.is_dir():
            raise SourceError(f"{folder} is not a folder")
        if rows is None and not any((self.folder / n).is_file() for n in ("records.jsonl", "records.csv")):
            raise SourceError(f"{folder} has neither records.jsonl nor records.csv")  # said before any work
        self.collection = slugify(collection or self.folder.name)
        self.key = f"local:{self.collection}"
        self._rows = rows
        self.page_size = page_size
        self.limit = limit
        self._total: int | None = None

    def _iter_rows(self) -> Iterable[tuple[int, Row | str]]:
        return self._rows() if self._rows is not None else read_records(self.folder)

    @property
    def total(self) -> int:
        """Number of records this run will read (for progress bars); one cheap pass."""
        if self._total is None:
            self._total = sum(1 for _ in self._iter_rows())
        return self._total if self.limit is None else min(self._total, self.limit)

    def to_record(self, row: Row) -> SourceRecord:
        """One row of the documented format to a record; raises ValueError on a bad row."""
        record_id = _text(row.get("id"))
        if not record_id:
            raise ValueError("missing id")
        extras = {k: v for k, v in row.items() if k not in KNOWN and v not in (None, "")}
        artwork = Artwork(
            source=self.name,
            source_id=f"{self.collection}/{record_id}",
            collection=_text(row.get("collection")) or self.collection,
            title=_text(row.get("title")) or "",
            artist_display=_text(row.get("artist")),
            date_display=_text(row.get("date")),
            date_start=_int_or_none(row.get("date_start")),
            date_end=_int_or_none(row.get("date_end")),
            culture=_text(row.get("culture")),
            place=_text(row.get("place")),
            classification=_text(row.get("classification")),
            medium=_text(row.get("medium")),
            subjects=parse_list(row.get("subjects")),
            styles=parse_list(row.get("styles")),
            description=_text(row.get("description")),
            credit_line=_text(row.get("credit_line")),
            license=_text(row.get("license")),
            source_url=_text(row.get("source_url")),
            image_url=_text(row.get("image_url")),
            extras=extras,
        )
        image = _text(row.get("image"))
        ref = ImageRef(path=self.folder / image) if image else None
        return SourceRecord(artwork=artwork, image=ref)

    async def pages(self, cursor: dict[str, Any] | None) -> AsyncIterator[Page]:
        start = int((cursor or {}).get("offset", 0))
        rows = self._iter_rows()
        page = Page(records=[], cursor=None)
        taken = 0
        for offset, (number, row) in enumerate(rows):
            if offset < start:
                continue
            if self.limit is not None and taken >= self.limit:
                break
            taken += 1
            if isinstance(row, str):
                page.problems.append((f"{self.collection}/#{number}", row))
            else:
                try:
                    page.records.append(self.to_record(row))
                except ValueError as exc:
                    page.problems.append((f"{self.collection}/#{number}", f"row {number}: {exc}"))
            if len(page.records) + len(page.problems) >= self.page_size:
                page.cursor = {"offset": offset + 1}
                yield page
                page = Page(records=[], cursor=None)
        yield page  # the last page (possibly empty) carries cursor None: the run is complete

    async def fetch_image(self, ref: ImageRef) -> bytes:
        if ref.path is None:
            raise SourceError("local records need an image path")
        path = ref.path.resolve()
        if not path.is_relative_to(self.folder):
            raise SourceError(f"image path {ref.path} leaves the collection folder")
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise SourceError(f"image file not found: {path.relative_to(self.folder)}") from None
        except IsADirectoryError:
            raise SourceError(f"image path is a folder: {path.relative_to(self.folder)}") from None

    async def aclose(self) -> None:
        return None
