"""The served works in memory: their records, and columns that make filters one vector operation.

A filter over 100k candidates must cost microseconds, not a SQL round trip
per request, so the fields filters use (dates, source, license,
classification, image) are kept as NumPy columns aligned with a sorted id
array. The full records stay in a dict for explanations and attribution.

The license policy is applied again here, every time the served collection
is loaded, not only at ingest: narrowing ``license.allowed`` (or improving
the license parser) withdraws works at the next start without a re-ingest.
Withheld works keep their reason, so naming one answers "not served, and
why" rather than "no such work".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from asterism.config import LicenseSettings
from asterism.index.vectors import Ids, as_ids
from asterism.normalize.licenses import OTHER, UNKNOWN, is_servable, normalize_license
from asterism.recommend.query import Filters
from asterism.recommend.refs import WorkRef, parse_ref
from asterism.shapes import Artwork, Status

UNKNOWN_LOW, UNKNOWN_HIGH = -(10**6), 10**6


def license_check(artwork: Artwork, policy: LicenseSettings) -> tuple[Artwork, str | None]:
    """The work with the license id the policy judges now, and why it may not be served (None: it may).

    The statement is read again from its verbatim text, so a record stored by an older
    parser (a "No Derivative Works" read as CC BY) is judged by what it says; a work is
    served only when both the stored id and that reading pass the current policy.
    """
    url = artwork.extras.get("license_url")
    stored = artwork.license_id
    reading = normalize_license(artwork.license, url if isinstance(url, str) else None)
    judged = [stored] if reading == UNKNOWN else [stored, reading]  # "unknown": the text adds nothing
    if reading not in (UNKNOWN, OTHER, stored):
        artwork = artwork.model_copy(update={"license_id": reading})
    for license_id in dict.fromkeys(judged):
        ok, reason = is_servable(license_id, policy.allowed, allow_unknown=policy.allow_unknown)
        if not ok:
            return artwork, reason
    if artwork.status == Status.EXCLUDED:
        return (
            artwork,
            "excluded at ingest by an earlier license policy: ingest again with refresh, then build",
        )
    return artwork, None


class Catalogue:
    """Every servable artwork (active, canonical, allowed by ``policy`` when given), by id."""

    def __init__(self, artworks: Iterable[Artwork], policy: LicenseSettings | None = None) -> None:
        works: list[Artwork] = []
        self.withheld: dict[int, str] = {}  # stored works the policy refuses now: id -> reason
        self._withheld_keys: dict[tuple[str, str], int] = {}
        for work in artworks:
            reason = None
            if policy is not None and work.id is not None and work.embeddable:
                work, reason = license_check(work, policy)
            if reason is not None and work.id is not None:
                self.withheld[work.id] = reason
                self._withheld_keys[work.key] = work.id
            elif work.servable:
                works.append(work)
        works.sort(key=lambda a: a.id or 0)
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

    def refusal(self, ref: WorkRef) -> str | None:
        """Why a stored work named by ``ref`` is withheld by the license policy (None: it is not)."""
        parsed = parse_ref(ref)
        found = parsed if isinstance(parsed, int) else self._withheld_keys.get(parsed)
        return self.withheld.get(found) if found is not None else None

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
        return ok & self._passing(positions, filters)

    def admitted(self, filters: Filters) -> Ids | None:
        """The sorted ids of every served work passing ``filters``; None when they constrain nothing.

        Computed over the whole columns up front (a few vector operations, ~1 ms at 100k works), so
        the recommender knows how selective a filter is before it searches, and can search inside
        the admitted set instead of discarding most of an unfiltered pool afterwards.
        """
        if filters == Filters():
            return None
        every = np.arange(len(self.ids))
        admitted: Ids = self.ids[self._passing(every, filters)]
        return admitted

    def _passing(self, positions: npt.NDArray[np.intp], filters: Filters) -> npt.NDArray[np.bool_]:
        """Whether the works at these column positions pass ``filters``."""
        ok = np.ones(len(positions), dtype=bool)
        if not len(self.ids):
            return ok
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
