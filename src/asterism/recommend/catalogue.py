"""The served works in memory: their records, and columns that make filters one vector operation.

A filter over 100k candidates must cost microseconds, not a SQL round trip
per request, so the fields filters use (dates, source, license,
classification, image) are kept as NumPy columns aligned with a sorted id
array (text fields as codes into a vocabulary). The full records are a
mapping by id: a dict when read from the store, or decoded on demand from
the build's memory-mapped snapshot (``recommend/snapshot.py``, ``mapped``).

The license policy is applied again here, every time the served collection
is loaded, not only at ingest: narrowing ``license.allowed`` (or improving
the license parser) withdraws works at the next start without a re-ingest.
Withheld works keep their reason, so naming one answers "not served, and
why" rather than "no such work". Over a snapshot the policy is judged once
per licence class (stored id, verbatim text, URL, status: all it reads), so
a start at a million works makes a handful of ``license_check`` calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from asterism.config import LicenseSettings
from asterism.index.vectors import Ids, as_ids
from asterism.normalize.licenses import OTHER, UNKNOWN, is_servable, normalize_license
from asterism.recommend.query import Filters
from asterism.recommend.refs import WorkRef, parse_ref
from asterism.recommend.snapshot import (
    UNKNOWN_HIGH,
    UNKNOWN_LOW,
    FilterColumns,
    MappedRecords,
    Snapshot,
    class_record,
    codes,
    fold,
    word_index,
)
from asterism.recommend.words import WordIndex, terms_of
from asterism.shapes import Artwork, Status

__all__ = ["UNKNOWN_HIGH", "UNKNOWN_LOW", "Catalogue", "license_check"]


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


@dataclass
class _Columns(FilterColumns):
    """The filter columns of the served works, aligned with their sorted ids."""

    source: npt.NDArray[np.int32]
    sources: list[str]
    license: npt.NDArray[np.int32]
    licenses: list[str]
    kind: npt.NDArray[np.int32]
    kinds: list[str]


class Catalogue:
    """Every servable artwork (active, canonical, allowed by ``policy`` when given), by id."""

    records: Mapping[int, Artwork]
    withheld: dict[int, str]  # stored works the policy refuses now: id -> reason

    def __init__(self, artworks: Iterable[Artwork], policy: LicenseSettings | None = None) -> None:
        works: list[Artwork] = []
        withheld: dict[int, str] = {}
        keys: dict[tuple[str, str], int] = {}
        for work in artworks:
            reason = None
            if policy is not None and work.id is not None and work.embeddable:
                work, reason = license_check(work, policy)
            if reason is not None and work.id is not None:
                withheld[work.id] = reason
                keys[work.key] = work.id
            elif work.servable:
                works.append(work)
        works.sort(key=lambda a: a.id or 0)
        records = {int(a.id): a for a in works if a.id is not None}
        keys.update({a.key: i for i, a in records.items()})
        source, sources = codes([a.source for a in works])
        license_, licenses = codes([a.license_id for a in works])
        kind, kinds = codes([(a.classification or "").lower() for a in works])
        columns = _Columns(
            **FilterColumns.of(works),
            source=source, sources=sources, license=license_, licenses=licenses, kind=kind, kinds=kinds,
        )  # fmt: skip

        def words() -> WordIndex:
            return word_index(columns.ids, works)

        self._setup(records, withheld, columns, keys.get, words)

    @classmethod
    def mapped(cls, snapshot: Snapshot, policy: LicenseSettings) -> Catalogue:
        """The served works of a build's snapshot under the policy of now, records decoded on demand.

        ``license_check`` runs once per licence class, on a stand-in record of that class: the
        same function, so the same verdicts and reasons as reading every record.
        """
        classes = snapshot.classes
        verdicts = [license_check(class_record(c), policy) for c in classes]
        judged = [work.license_id for work, _ in verdicts]
        refused = np.asarray([reason is not None for _, reason in verdicts], dtype=bool)
        active = np.asarray([c[3] == Status.ACTIVE for c in classes], dtype=bool)
        per_row = snapshot.licence
        served = ~refused[per_row] & active[per_row] if len(classes) else np.zeros(0, bool)
        every = bool(served.all())
        rows = np.arange(len(served), dtype=np.int64) if every else np.flatnonzero(served).astype(np.int64)

        def pick(column: npt.NDArray[Any]) -> Any:
            return column if every else column[rows]  # all served: the mapped column itself

        refused_rows = np.flatnonzero(refused[per_row]) if len(classes) else np.zeros(0, np.int64)
        withheld = dict(
            zip(snapshot.ids[refused_rows].tolist(),
                [str(verdicts[c][1]) for c in per_row[refused_rows].tolist()], strict=True)
        )  # fmt: skip
        licenses = list(dict.fromkeys(judged))
        class_code = np.asarray([licenses.index(j) for j in judged], dtype=np.int32)
        ids: Ids = pick(snapshot.ids)
        columns = _Columns(
            ids=ids, start=pick(snapshot.start), end=pick(snapshot.end), dated=pick(snapshot.dated),
            image=pick(snapshot.image), source=pick(snapshot.source), sources=list(snapshot.meta["sources"]),
            license=class_code[pick(per_row)] if len(classes) else np.zeros(0, np.int32), licenses=licenses,
            kind=pick(snapshot.kind), kinds=list(snapshot.meta["kinds"]),
        )  # fmt: skip
        relabel = {i: j for i, (j, c) in enumerate(zip(judged, classes, strict=True)) if j != c[0]}
        records = MappedRecords(snapshot, ids, rows, relabel, per_row)

        def find(key: tuple[str, str]) -> int | None:
            row = snapshot.find(*key)
            return int(snapshot.ids[row]) if row is not None else None

        self = cls.__new__(cls)
        self._setup(records, withheld, columns, find, snapshot.words)
        return self

    def _setup(
        self,
        records: Mapping[int, Artwork],
        withheld: dict[int, str],
        columns: _Columns,
        find: Callable[[tuple[str, str]], int | None],
        words: Callable[[], WordIndex],
    ) -> None:
        self.records, self.withheld, self._columns = records, withheld, columns
        self.ids: Ids = columns.ids
        self._find, self._words_of = find, words
        self._search: tuple[WordIndex, npt.NDArray[np.bool_]] | None = None
        self._search_lock = threading.Lock()

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
        found = self._find(parsed)
        return self.get(found) if found is not None else None

    def refusal(self, ref: WorkRef) -> str | None:
        """Why a stored work named by ``ref`` is withheld by the license policy (None: it is not)."""
        parsed = parse_ref(ref)
        found = parsed if isinstance(parsed, int) else self._find(parsed)
        return self.withheld.get(found) if found is not None else None

    def many(self, ids: Sequence[int]) -> list[Artwork]:
        return [self.records[int(i)] for i in ids if int(i) in self.records]

    def pictured(self) -> Ids:
        """The sorted ids of the served works that have a picture."""
        found: Ids = self.ids[self._columns.image]
        return found

    def search(self, text: str, limit: int = 20) -> list[Artwork]:
        """Served works whose title or artist hold every word of ``text`` as a word prefix, best first.

        Exact title or artist matches first, then shorter titles, then id. An
        inverted index (``words.py``), read or built at the first search: milliseconds a
        query at a million works, where the scan it replaced took a minute.
        """
        folded = fold(text)
        terms = terms_of(folded)
        if not terms:
            return []
        index, served = self._word_search()
        best = index.ranked(index.matching(terms, served), folded, limit)
        return [self.records[int(i)] for i in index.ids[best].tolist()]

    def _word_search(self) -> tuple[WordIndex, npt.NDArray[np.bool_]]:
        """The word index and which of its works are served, read or built once.

        Request threads search at once (FastAPI runs the route on its pool): both are made
        under a lock and published together, so no search sees the index without its mask
        (a withheld work's position would then reach ``records`` and fail).
        """
        found = self._search
        if found is None:
            with self._search_lock:
                found = self._search
                if found is None:
                    words = self._words_of()
                    found = self._search = (words, self.allowed(words.ids, Filters()))
        return found

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
        c = self._columns
        if filters.date_from is not None:  # overlaps the range; undated works are left out
            ok &= c.dated[positions] & (c.end[positions] >= filters.date_from)
        if filters.date_to is not None:
            ok &= c.dated[positions] & (c.start[positions] <= filters.date_to)
        if filters.sources is not None:
            ok &= np.isin(c.source[positions], _wanted(c.sources, filters.sources))
        if filters.licenses is not None:
            ok &= np.isin(c.license[positions], _wanted(c.licenses, filters.licenses))
        if filters.classifications is not None:
            ok &= np.isin(c.kind[positions], _wanted(c.kinds, {k.lower() for k in filters.classifications}))
        if filters.has_image is not None:
            ok &= c.image[positions] == filters.has_image
        return ok


def _wanted(vocabulary: Sequence[str], values: Iterable[str]) -> npt.NDArray[np.int32]:
    """The codes of those of ``values`` the vocabulary holds (others match nothing)."""
    wanted = set(values)
    return np.asarray([i for i, v in enumerate(vocabulary) if v in wanted], dtype=np.int32)
