"""Search with query-time weights: each affinity's index for candidates, exact re-scoring after.

Weights are a property of the question, not of the index: a person moving
the "formal" slider must not wait for a rebuild. So each affinity index is
searched for its own top-N, the candidates are pooled, and every candidate
is re-scored exactly from the VectorSets as Σ w_a · cos_a with this query's
weights. The union of per-affinity top-N lists contains every work that is
strongly similar in any single affinity, which is where the weighted top-k
comes from in practice; exact re-scoring also removes the approximation of
HNSW distances and IVF-PQ codes from the final order.

An affinity the query has no vector for (an upload has no history) gets
weight 0 and the remaining weights are renormalised to sum to 1. A candidate
without a stored vector for an active affinity scores 0 there (no evidence).
Ties break by id, so the same question always gets the same answer, and
excluded ids are filtered inside each index so they do not crowd out the N.

A filter works the same way when it is selective (``within``): a search
followed by a filter keeps only the filter's share of each N (1 % of 100
is one work), so the admitted ids go inside the search instead. A set of at
most ``SCORE_ALL`` works is not searched at all: every one of them is a
candidate and the exact re-scoring ranks them, which is both exact and
cheaper than an index walk that would have to visit most of the graph. A
larger set is searched with the set as an id selector inside each index
(flat: exact; HNSW: efSearch raised by 1/share, see ``search_padded``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from asterism.embed.base import AFFINITIES, Affinity, Vectors
from asterism.index.composite import composite
from asterism.index.faiss_index import VectorIndex
from asterism.index.vectors import Ids, ModelMismatch, VectorSet, as_ids

__all__ = ["Hit", "MultiSearcher", "composite"]

VectorSource = VectorSet | tuple[Any, Any]  # a VectorSet, or (ids, matrix) arrays to wrap
# Admitted sets up to this size are scored in full rather than searched: the answer is then exact,
# and HNSW with a selector admitting a small share of the graph either stops short of its N or,
# with efSearch raised to make up for it, walks most of the graph anyway. Exact re-scoring costs
# ~10 µs a work on the loaded 2-core machine, so the largest such set costs ~40 ms; bench/recommend.py
# --filtered times both ways (bench/RESULTS.md, "Filters inside the search").
SCORE_ALL = 4096


class Hit(NamedTuple):
    """One result: artwork id, weighted total, and the cosine per affinity the work has a vector for."""

    id: int
    total: float
    scores: dict[Affinity, float]

    @property
    def score(self) -> float:
        return self.total


class Scores(NamedTuple):
    """Candidates (sorted ids) with their weighted totals and per-affinity cosines (0 where missing)."""

    ids: Ids
    totals: npt.NDArray[np.float64]
    cosines: dict[Affinity, npt.NDArray[np.float64]]
    found: dict[Affinity, npt.NDArray[np.bool_]]


class MultiSearcher:
    """Per-affinity indexes plus the VectorSets they were built from (for exact re-scoring)."""

    def __init__(
        self,
        indexes: Mapping[Affinity, VectorIndex] | Mapping[str, VectorIndex],
        vectors: Mapping[Affinity, VectorSource] | Mapping[str, VectorSource],
    ) -> None:
        self.indexes: dict[Affinity, VectorIndex] = {Affinity(name): index for name, index in indexes.items()}
        self.vectors: dict[Affinity, VectorSet] = {}
        for name, source in vectors.items():
            self.vectors[Affinity(name)] = (
                source if isinstance(source, VectorSet) else VectorSet.from_arrays(*source)
            )
        for affinity, index in self.indexes.items():
            stored = self.vectors.get(affinity)
            if stored is not None and len(stored) and stored.dim != index.dim:
                raise ValueError(f"{affinity}: index dim {index.dim} but vectors dim {stored.dim}")
            if stored is not None and index.model and stored.model and index.model != stored.model:
                raise ModelMismatch(f"{affinity}: index of {index.model!r} but vectors of {stored.model!r}")

    def vector(self, affinity: Affinity | str, artwork_id: int) -> Vectors | None:
        """The stored vector of one work, or None."""
        stored = self.vectors.get(Affinity(affinity))
        if stored is None:
            return None
        found, rows = stored.get([artwork_id])
        return rows[0] if found[0] else None

    def _queries(self, query: Mapping[Affinity, Any] | Mapping[str, Any]) -> dict[Affinity, Vectors]:
        """Usable query vectors, unit length; None, zero and unknown affinities are left out."""
        usable: dict[Affinity, Vectors] = {}
        for name, vector in query.items():
            affinity = Affinity(name)
            if vector is None or affinity not in self.vectors:
                continue
            array = np.asarray(vector, dtype=np.float32).reshape(-1)
            if len(array) != self.vectors[affinity].dim:
                raise ValueError(
                    f"{affinity} query has dimension {len(array)}, expected {self.vectors[affinity].dim}"
                )
            norm = float(np.linalg.norm(array))
            if norm > 0 and math.isfinite(norm):
                usable[affinity] = (array / norm).astype(np.float32)
        return usable

    @staticmethod
    def _weights(weights: Mapping[Affinity, float] | Mapping[str, float]) -> dict[Affinity, float]:
        checked = {}
        for name, value in weights.items():
            weight = float(value)
            if not math.isfinite(weight) or weight < 0:
                raise ValueError(f"weight of {name!r} must be finite and ≥ 0, got {value}")
            checked[Affinity(name)] = weight
        return checked

    def search(
        self,
        query: Mapping[Affinity, Any] | Mapping[str, Any],
        weights: Mapping[Affinity, float] | Mapping[str, float],
        k: int = 10,
        n_candidates: int = 200,
        *,
        exclude: Iterable[int] = (),
        within: Any = None,
    ) -> list[Hit]:
        """The k best works for ``query`` under ``weights``; ``exclude`` never appear (filtered in each index).

        ``within`` (ids; None: every work) restricts the answer to those works, inside the search.
        """
        vectors = self._queries(query)
        given = self._weights(weights)
        active = {
            affinity: given[affinity]
            for affinity in AFFINITIES
            if affinity in vectors and given.get(affinity, 0.0) > 0 and affinity in self.indexes
        }
        total = sum(active.values())
        if k <= 0 or total <= 0:
            return []
        shares = {affinity: weight / total for affinity, weight in active.items()}
        excluded = np.unique(as_ids(list(exclude)))
        candidates = self._candidates(vectors, list(shares), max(n_candidates, k), excluded, _within(within))
        if len(candidates) == 0:
            return []
        return self._rescore(candidates, vectors, shares, k)

    def candidates(
        self,
        query: Mapping[Affinity, Any] | Mapping[str, Any],
        n: int,
        *,
        affinities: Iterable[Affinity] | None = None,
        exclude: Iterable[int] = (),
        within: Any = None,
    ) -> Ids:
        """The union of each affinity index's top-``n`` for the query's vectors (sorted ids).

        ``within`` (ids; None: every work) searches only among those works, so a selective filter
        still yields ``n`` per affinity; an admitted set of at most ``max(n, SCORE_ALL)`` works is
        returned whole (a superset of every top-``n`` in it, for the caller's exact scoring).
        """
        vectors = self._queries(query)
        chosen = [a for a in (affinities or AFFINITIES) if a in vectors and a in self.indexes]
        return self._candidates(vectors, chosen, n, np.unique(as_ids(list(exclude))), _within(within))

    def score(
        self,
        candidates: Any,
        query: Mapping[Affinity, Any] | Mapping[str, Any],
        weights: Mapping[Affinity, float] | Mapping[str, float],
    ) -> list[Hit]:
        """Exact weighted scores of the given works, best first (ties by id); weights renormalised."""
        vectors = self._queries(query)
        given = self._weights(weights)
        active = {a: given.get(a, 0.0) for a in AFFINITIES if a in vectors and given.get(a, 0.0) > 0}
        total = sum(active.values())
        ids = np.unique(as_ids(candidates))
        if total <= 0 or len(ids) == 0:
            return []
        return self._rescore(ids, vectors, {a: w / total for a, w in active.items()}, len(ids))

    def score_arrays(
        self,
        candidates: Any,
        query: Mapping[Affinity, Any] | Mapping[str, Any],
        weights: Mapping[Affinity, float] | Mapping[str, float],
    ) -> Scores:
        """Like ``score`` but as arrays, for callers that rank thousands and explain ten."""
        vectors = self._queries(query)
        given = self._weights(weights)
        active = {a: given.get(a, 0.0) for a in AFFINITIES if a in vectors and given.get(a, 0.0) > 0}
        total = sum(active.values())
        ids = np.unique(as_ids(candidates))
        cosines: dict[Affinity, npt.NDArray[np.float64]] = {}
        found: dict[Affinity, npt.NDArray[np.bool_]] = {}
        totals = np.zeros(len(ids), dtype=np.float64)
        for affinity in AFFINITIES:
            if affinity not in vectors or not len(ids):
                continue
            hit, rows = self.vectors[affinity].get(ids)
            cos = (rows.astype(np.float64) * vectors[affinity].astype(np.float64)).sum(axis=1)
            cosines[affinity], found[affinity] = np.where(hit, cos, 0.0), hit
            if affinity in active:
                totals += (active[affinity] / total) * cosines[affinity]
        if total <= 0:
            ids, totals = ids[:0], totals[:0]
            cosines = {a: c[:0] for a, c in cosines.items()}
            found = {a: f[:0] for a, f in found.items()}
        return Scores(ids, totals, cosines, found)

    def _candidates(
        self,
        vectors: dict[Affinity, Vectors],
        affinities: list[Affinity],
        n: int,
        excluded: Ids,
        within: Ids | None = None,
    ) -> Ids:
        if within is not None and affinities:
            admitted: Ids = np.setdiff1d(within, excluded)
            if len(admitted) <= max(n, SCORE_ALL):
                return admitted
        pooled = []
        for affinity in affinities:
            _, ids = self.indexes[affinity].search(vectors[affinity], n, exclude=excluded, within=within)
            pooled.append(ids[0])
        candidates = np.unique(np.concatenate(pooled)) if pooled else np.zeros(0, dtype=np.int64)
        kept: Ids = candidates[~np.isin(candidates, excluded)]
        return kept

    def _rescore(
        self, candidates: Ids, vectors: dict[Affinity, Vectors], shares: dict[Affinity, float], k: int
    ) -> list[Hit]:
        totals = np.zeros(len(candidates), dtype=np.float64)
        explained: dict[Affinity, tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64]]] = {}
        for affinity in AFFINITIES:
            if affinity not in vectors:
                continue
            found, rows = self.vectors[affinity].get(candidates)
            # float64, row by row with the same reduction: identical vectors get identical scores.
            cosines = (rows.astype(np.float64) * vectors[affinity].astype(np.float64)).sum(axis=1)
            explained[affinity] = (found, cosines)
            if affinity in shares:
                totals += shares[affinity] * np.where(found, cosines, 0.0)
        order = np.lexsort((candidates, -totals))[:k]
        return [
            Hit(
                int(candidates[i]),
                float(totals[i]),
                {affinity: float(cos[i]) for affinity, (found, cos) in explained.items() if found[i]},
            )
            for i in order
        ]


def _within(ids: Any) -> Ids | None:
    """An admitted set as sorted unique ids (None stays None: no restriction)."""
    return None if ids is None else np.unique(as_ids(ids))
