"""Typed similarity edges from batched k-NN: each artwork's top-K per affinity above a threshold.

Edges are computed with FAISS in batches of queries (never one query or one
write per edge) and handed to the graph store as columns, which is what a
bulk load (LadybugDB ``COPY FROM``, Neo4j ``UNWIND`` batches) wants.

An edge is stored once, from the work whose top-K it is in (src) to the
neighbour (dst), and read in both directions. Incremental builds compute the
new works' own top-K and, in the other direction, an edge from an existing
work to a new one whenever the new one is at least as close as that work's
current weakest neighbour — so old works see new neighbours without a full
rebuild (their degree may then exceed K a little until the next rebuild).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from asterism.embed.base import Affinity
from asterism.index.faiss_index import VectorIndex
from asterism.index.vectors import Ids, VectorSet, as_ids

EDGE_TYPE: dict[Affinity, str] = {
    Affinity.FORMAL: "FORMAL_SIM",
    Affinity.CONCEPTUAL: "CONCEPT_SIM",
    Affinity.HISTORICAL: "HISTORICAL_SIM",
}
AFFINITY_OF: dict[str, Affinity] = {edge: affinity for affinity, edge in EDGE_TYPE.items()}
# Cosine below which a pair is not called similar at all. Measured on 120 AIC sample paintings
# (2026-11-28): the top-20 neighbours' weights have median / 10th percentile 0.62 / 0.56 formal,
# 0.56 / 0.49 conceptual, 0.73 / 0.54 historical; the bars sit under the 10th percentiles so a
# typical work keeps its K edges and only outliers lose the weakest.
DEFAULT_THRESHOLDS: dict[Affinity, float] = {
    Affinity.FORMAL: 0.5,
    Affinity.CONCEPTUAL: 0.35,
    Affinity.HISTORICAL: 0.5,
}
BATCH = 2048


@dataclass
class EdgeSet:
    """Columns of one edge type: src[i] → dst[i] with weight[i] (the cosine)."""

    type: str
    src: Ids
    dst: Ids
    weight: npt.NDArray[np.float32]

    def __len__(self) -> int:
        return len(self.src)

    @classmethod
    def empty(cls, type_: str) -> EdgeSet:
        return cls(type_, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))

    @classmethod
    def concat(cls, type_: str, parts: Iterable[EdgeSet]) -> EdgeSet:
        items = [p for p in parts if len(p)]
        if not items:
            return cls.empty(type_)
        return cls(
            type_,
            np.concatenate([p.src for p in items]),
            np.concatenate([p.dst for p in items]),
            np.concatenate([p.weight for p in items]),
        )


def knn_edges(
    type_: str,
    index: VectorIndex,
    vectors: VectorSet,
    *,
    k: int,
    threshold: float,
    only: Ids | None = None,
    exclude: Ids | None = None,
) -> EdgeSet:
    """Top-``k`` neighbours (self excluded) of ``only`` (default: every vector) with weight ≥ threshold.

    ``exclude``: works that are neither sources nor neighbours (e.g. not servable); they are
    filtered inside the index, so they do not take neighbour slots.
    """
    ids = vectors.ids if only is None else as_ids(only)
    banned = np.zeros(0, np.int64) if exclude is None else np.unique(as_ids(exclude))
    ids = ids[~np.isin(ids, banned)]
    parts = []
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        found, rows = vectors.get(batch)
        batch, rows = batch[found], rows[found]
        scores, neighbours = index.search_padded(rows, k + 1, exclude=banned)
        keep = (neighbours >= 0) & (neighbours != batch[:, None]) & (scores >= threshold)
        # at most k per row, best first (the row is sorted; self took one slot or none)
        keep &= np.cumsum(keep, axis=1) <= k
        rows_of = np.broadcast_to(batch[:, None], neighbours.shape)
        parts.append(EdgeSet(type_, rows_of[keep], neighbours[keep], scores[keep].astype(np.float32)))
    return EdgeSet.concat(type_, parts)


def reverse_edges(new: EdgeSet, existing: EdgeSet, *, k: int, new_ids: Ids) -> EdgeSet:
    """Edges old → new where the new work is at least as close as the old work's k-th neighbour (or it has < k)."""
    fresh = np.isin(new.src, new_ids) & ~np.isin(new.dst, new_ids)
    src, dst, weight = new.dst[fresh], new.src[fresh], new.weight[fresh]
    if len(src) == 0:
        return EdgeSet.empty(new.type)
    order = np.lexsort((-existing.weight, existing.src))  # by source, strongest first
    sorted_src, sorted_weight = existing.src[order], existing.weight[order]
    starts = np.searchsorted(sorted_src, src, side="left")
    counts = np.searchsorted(sorted_src, src, side="right") - starts
    # the k-th strongest existing edge of each old work (only defined where it has ≥ k)
    kth = np.where(counts >= k, sorted_weight[np.minimum(starts + k - 1, len(sorted_weight) - 1)], -np.inf)
    weakest = kth.astype(np.float32) if len(sorted_weight) else np.full(len(src), -np.inf, np.float32)
    keep = (counts < k) | (weight >= weakest)
    return EdgeSet(new.type, src[keep], dst[keep], weight[keep])


def thresholds(overrides: Mapping[str, float] | None = None) -> dict[Affinity, float]:
    merged = dict(DEFAULT_THRESHOLDS)
    for name, value in (overrides or {}).items():
        merged[Affinity(name)] = float(value)
    return merged
