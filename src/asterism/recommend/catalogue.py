"""The served works in memory: their records, and columns that make filters one vector operation.

A filter over 100k candidates must cost microseconds, not a SQL round trip
per request, so the fields filters use (dates, source, license,
classification, image) are kept as NumPy columns aligned with a sorted id
array. The full records stay in a dict for explanations and attribution.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from asterism.index.vectors import Ids, as_ids
from asterism.recommend.query import Filters
from asterism.recommend.refs import WorkRef, parse_ref
from asterism.shapes import Artwork

UNKNOWN_LOW, UNKNOWN_HIGH = -(10**6), 10**6


class Catalogue:
    """Every servable artwork (active, canonical), by id."""

    def __init__(self, artworks: Iterable[Artwork]) -> None:
        works = sorted((a for a in artworks if a.servable), key=lambda a: a.id or 0)
        self.records: dict[int, Artwork] = {int(a.id): a for a in works if a.id is not None}
        self._by_key: dict[tuple[str, str], int] = {a.key: i for i, a in self.records.items()}
        self.ids: Ids = np.asarray(list(self.records), dtype=np.int64)
        self._start = np.asarray([_or(a.date_start, UNKNOWN_LOW) for a in works], dtype=np.int64)
        self._end = np.asarray([_or(a.date_end, UNKNOWN_HIGH) for a in works], dtype=np.int64)
        self._dated = np.asarray([a.date_start is not None or a.date_end is not None for a in works], bool)
        self._source = np.asarray([a.source for a in works], dtype=object)
        self._license = np.asarray([a.license_id for a in works], dtype=object)
        self._type = np.asarray([(a.classification or "").lower() for a in works], dtype=object)
        self._image = np.asarray([a.image is not None for a in works], dtype=bool)
        self._haystack: list[tuple[int, str]] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, artwork_id: object) -> bool:
        return artwork_id in self.records

    def get(self, artwork_id: int) -> Artwork | None:
        return self.records.get(int(artwork_id))

    def lookup(self, ref: WorkRef) -> Artwork | None:
        """A served work by its store id or its own name ``source:source_id`` (see ``refs``)."""
        parsed = parse_ref(ref)
        if isinstance(parsed, int):
            return self.get(parsed)
        found = self._by_key.get(parsed)
        return self.records[found] if found is not None else None

    def many(self, ids: Sequence[int]) -> list[Artwork]:
        return [self.records[int(i)] for i in ids if int(i) in self.records]

    def search(self, text: str, limit: int = 20) -> list[Artwork]:
        """Works whose title or artist contain every word of ``text`` (as word prefixes), best first.

        A linear scan over folded strings: at 100k works it costs a few
        milliseconds, which is fine for picking a start; exact title or artist
        matches rank first, then shorter titles, then id.
        """
        terms = [t for t in re.findall(r"\w+", _fold(text)) if t]
        if not terms:
            return []
        if self._haystack is None:
            self._haystack = [
                (i, _fold(f"{a.title} {a.artist_name or ''} {a.artist_display or ''}"))
                for i, a in self.records.items()
            ]
        found = []
        for artwork_id, hay in self._haystack:
            words = re.findall(r"\w+", hay)
            if all(any(w.startswith(t) for w in words) for t in terms):
                record = self.records[artwork_id]
                exact = _fold(record.title) == _fold(text) or _fold(record.artist_name or "") == _fold(text)
                found.append((not exact, len(record.title), artwork_id))
        return [self.records[i] for _, _, i in sorted(found)[:limit]]

    def allowed(self, ids: Ids, filters: Filters) -> npt.NDArray[np.bool_]:
        """Which of ``ids`` are served works passing ``filters`` (unknown ids: False)."""
        candidates = as_ids(ids)
        positions = np.clip(np.searchsorted(self.ids, candidates), 0, max(len(self.ids) - 1, 0))
        ok = (self.ids[positions] == candidates) if len(self.ids) else np.zeros(len(candidates), bool)
        if filters.date_from is not None:  # overlaps the range; undated works are left out
            ok &= self._dated[positions] & (self._end[positions] >= filters.date_from)
        if filters.date_to is not None:
            ok &= self._dated[positions] & (self._start[positions] <= filters.date_to)
        if filters.sources is not None:
            ok &= np.isin(self._source[positions], list(filters.sources))
        if filters.licenses is not None:
            ok &= np.isin(self._license[positions], list(filters.licenses))
        if filters.classifications is not None:
            ok &= np.isin(self._type[positions], [c.lower() for c in filters.classifications])
        if filters.has_image is not None:
            ok &= self._image[positions] == filters.has_image
        return ok


def _fold(text: str) -> str:
    """Lower case without accents: "Gonzalès" matches "gonzales"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _or(value: int | None, default: int) -> int:
    return default if value is None else int(value)
