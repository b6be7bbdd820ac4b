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

The k-NN may run at a lower HNSW efSearch than queries do (``ef``): an edge
only has to be a close pair with its true cosine as weight, not necessarily
one of the exact top K, and at 1M works the query-grade efSearch made this
search the slowest step of a build (bench/RESULTS.md). ``tune_build_ef`` picks
the smallest efSearch that keeps a target share of the exact top K on a
sample (``graph.edge_recall``), and ``edge_recall`` measures what the built
edges hold on another sample, which the graph stage reports per edge type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from asterism.embed.base import Affinity
from asterism.index.faiss_index import EF_CANDIDATES, VectorIndex
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
EXACT_BLOCK = 65_536  # rows scored at once by exact_neighbours
RECALL_SAMPLE = 200  # sources edge_recall compares with their exact top K


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
    ef: int | None = None,
) -> EdgeSet:
    """Top-``k`` neighbours (self excluded) of ``only`` (default: every vector) with weight ≥ threshold.

    ``exclude``: works that are neither sources nor neighbours (e.g. not servable); they are
    filtered inside the index, so they do not take neighbour slots. ``ef``: the HNSW efSearch
    of this search (None: the index's tuned one).
    """
    ids = vectors.ids if only is None else as_ids(only)
    banned = np.zeros(0, np.int64) if exclude is None else np.unique(as_ids(exclude))
    ids = ids[~np.isin(ids, banned)]
    parts = []
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        found, rows = vectors.get(batch)
        batch, rows = batch[found], rows[found]
        scores, neighbours = index.search_padded(rows, k + 1, exclude=banned, ef=ef)
        keep = (neighbours >= 0) & (neighbours != batch[:, None]) & (scores >= threshold)
        # at most k per row, best first (the row is sorted; self took one slot or none)
        keep &= np.cumsum(keep, axis=1) <= k
        rows_of = np.broadcast_to(batch[:, None], neighbours.shape)
        parts.append(EdgeSet(type_, rows_of[keep], neighbours[keep], scores[keep].astype(np.float32)))
    return EdgeSet.concat(type_, parts)


def exact_neighbours(
    vectors: VectorSet, sources: Ids, *, k: int, threshold: float, exclude: Ids | None = None
) -> list[set[int]]:
    """The exact top-``k`` (self and ``exclude`` left out, weight ≥ threshold) of each of ``sources``.

    Brute force in blocks of rows, so the scores of a few hundred sources against a million
    vectors never sit in memory at once.
    """
    found, queries = vectors.get(as_ids(sources))
    if not found.all():
        raise ValueError("every source must be in the vector set")
    banned = np.zeros(0, np.int64) if exclude is None else np.unique(as_ids(exclude))
    best_scores = np.full((len(queries), 0), -np.inf, np.float32)
    best_ids = np.zeros((len(queries), 0), np.int64)
    for start in range(0, len(vectors.ids), EXACT_BLOCK):
        block_ids = vectors.ids[start : start + EXACT_BLOCK]
        scores = queries @ np.asarray(vectors.vectors[start : start + EXACT_BLOCK]).T
        scores[
            (block_ids[None, :] == as_ids(sources)[:, None]) | np.isin(block_ids, banned)[None, :]
        ] = -np.inf
        scores = np.concatenate([best_scores, scores], axis=1)
        ids = np.concatenate([best_ids, np.broadcast_to(block_ids, (len(queries), len(block_ids)))], axis=1)
        if scores.shape[1] > k:  # keep the k best of the block and the best so far (order not needed)
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
            scores, ids = np.take_along_axis(scores, top, 1), np.take_along_axis(ids, top, 1)
        best_scores, best_ids = scores, ids
    return [set(i[s >= threshold].tolist()) for s, i in zip(best_scores, best_ids, strict=True)]


def edge_recall(
    edges: EdgeSet,
    vectors: VectorSet,
    *,
    k: int,
    threshold: float,
    exclude: Ids | None = None,
    sample: int = RECALL_SAMPLE,
    seed: int = 0,
) -> float:
    """Share of the exact top-``k`` edges (over a sample of sources) that ``edges`` holds.

    1.0 for an exact k-NN; below it when an approximate search missed true neighbours.
    NaN when there are no edges to sample from.
    """
    sources = np.unique(edges.src)
    if len(sources) == 0:
        return float("nan")
    picked = np.sort(np.random.default_rng(seed).choice(sources, min(sample, len(sources)), replace=False))
    return _held(edges, picked, exact_neighbours(vectors, picked, k=k, threshold=threshold, exclude=exclude))


def tune_build_ef(
    type_: str,
    index: VectorIndex,
    vectors: VectorSet,
    *,
    k: int,
    threshold: float,
    target: float,
    exclude: Ids | None = None,
    sample: int = RECALL_SAMPLE,
    seed: int = 1,
) -> int | None:
    """The smallest efSearch whose k-NN holds ``target`` of the exact top-``k`` on a sample of works.

    None for an index without efSearch (flat is exact). Never above the index's tuned efSearch
    (what queries get), which is also the answer when no smaller value reaches the target.
    """
    tuned = index.ef_search
    if tuned is None:
        return None
    banned = np.zeros(0, np.int64) if exclude is None else np.unique(as_ids(exclude))
    sources = vectors.ids[~np.isin(vectors.ids, banned)]
    if len(sources) == 0:
        return tuned
    picked = np.sort(np.random.default_rng(seed).choice(sources, min(sample, len(sources)), replace=False))
    truth = exact_neighbours(vectors, picked, k=k, threshold=threshold, exclude=banned)
    for ef in (candidate for candidate in EF_CANDIDATES if k < candidate < tuned):
        edges = knn_edges(type_, index, vectors, k=k, threshold=threshold, only=picked, exclude=banned, ef=ef)
        if _held(edges, picked, truth) >= target:
            return ef
    return tuned


def _held(edges: EdgeSet, picked: Ids, truth: list[set[int]]) -> float:
    """Share of ``truth`` (the exact neighbours of each of ``picked``) found among ``edges``."""
    order = np.argsort(edges.src, kind="stable")
    src, dst = edges.src[order], edges.dst[order]
    starts, ends = np.searchsorted(src, picked), np.searchsorted(src, picked, side="right")
    held = [set(dst[a:b].tolist()) for a, b in zip(starts, ends, strict=True)]
    total = sum(len(t) for t in truth)
    return sum(len(t & h) for t, h in zip(truth, held, strict=True)) / total if total else 1.0


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
