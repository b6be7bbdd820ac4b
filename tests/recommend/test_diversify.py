"""Duplicate removal and MMR as matrix operations give what their plain pairwise definitions give.

The references below are the definitions read literally (one pair at a time, as the recommender
used to run them); the vectorised ``diversify`` must agree with them exactly, on random data
built to hit the awkward cases: copies of the start, chains of copies (a copy of a dropped copy
stays), works without a vector, windows longer than one block, and tied scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pytest

from asterism.embed.base import Affinity
from asterism.recommend import diversify
from asterism.recommend.diversify import Lookup


@dataclass
class Item:
    id: int
    total: float


def reference_without_duplicates(
    ranked: list[Item], vectors: Mapping[int, np.ndarray], start: np.ndarray | None, bar: float, wanted: int
) -> list[Item]:
    kept: list[Item] = []
    kept_vectors: list[np.ndarray] = []
    for item in ranked[: max(wanted * 4, wanted + 20)]:
        vector = vectors.get(item.id)
        if vector is not None and start is not None and float(vector @ start) >= bar:
            continue
        if vector is not None and any(float(vector @ other) >= bar for other in kept_vectors):
            continue
        kept.append(item)
        if vector is not None:
            kept_vectors.append(vector)
        if len(kept) >= wanted:
            break
    return kept


def reference_mmr(
    ranked: list[Item],
    vectors: Mapping[Affinity, Mapping[int, np.ndarray]],
    weights: Mapping[Affinity, float],
    wanted: int,
    diversity: float,
) -> list[Item]:
    pool = ranked[: max(wanted * 5, wanted)]
    if diversity <= 0 or len(pool) <= 1:
        return pool[:wanted]

    def pair(a: Item, b: Item) -> float:
        return sum(w * float(vectors[f][a.id] @ vectors[f][b.id]) for f, w in weights.items() if w > 0)

    similarities = {(a.id, b.id): pair(a, b) for a in pool for b in pool}  # each pair once, not per pick
    similarity = lambda a, b: similarities[a.id, b.id]  # noqa: E731

    chosen: list[Item] = []
    remaining = list(pool)
    while remaining and len(chosen) < wanted:

        def value(item: Item) -> tuple[float, int]:
            redundancy = max((similarity(item, other) for other in chosen), default=0.0)
            return ((1 - diversity) * item.total - diversity * redundancy, -item.id)

        best = max(remaining, key=value)
        chosen.append(best)
        remaining.remove(best)
    return chosen


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def lookup(vectors: Mapping[int, np.ndarray], dim: int) -> Lookup:
    """``VectorSet.get``'s contract: a found mask, and zero rows where a work has no vector."""

    def get(ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        found = np.asarray([i in vectors for i in ids], dtype=bool)
        rows = np.zeros((len(ids), dim), dtype=np.float32)
        for row, i in enumerate(ids):
            if i in vectors:
                rows[row] = vectors[i]
        return found, rows

    return get


def collection(seed: int, size: int, dim: int) -> tuple[list[Item], dict[int, np.ndarray], np.ndarray]:
    """A ranked list (shuffled ids, some scores tied) whose formal vectors hold copies and chains of copies."""
    rng = np.random.default_rng(seed)
    base = unit(rng.standard_normal((size, dim)))
    start = unit(rng.standard_normal(dim))
    for i in rng.choice(
        size, size // 5, replace=False
    ):  # near copies of another work, some closer than others
        j = int(rng.integers(size))
        base[i] = unit(base[j] + rng.uniform(0.05, 0.4) * unit(rng.standard_normal(dim)))
    for i in rng.choice(size, size // 20, replace=False):  # copies of the start picture
        base[i] = unit(start + 0.1 * unit(rng.standard_normal(dim)))
    first = int(rng.integers(size - 3))  # a chain: each a copy of the next, the ends far apart
    step = unit(rng.standard_normal(dim))
    for t in range(3):
        base[first + t] = unit(base[first] + 0.18 * t * step)
    ids = rng.permutation(np.arange(1, size + 1) * 7)
    totals = np.round(np.sort(rng.uniform(0, 1, size))[::-1], 2)  # rounded: ties at the first pick
    ranked = [Item(int(i), float(t)) for i, t in zip(ids, totals, strict=True)]
    missing = set(rng.choice(ids, size // 10, replace=False).tolist())  # works without a formal vector
    vectors = {int(i): base[row] for row, i in enumerate(ids) if int(i) not in missing}
    return ranked, vectors, start


@pytest.mark.parametrize("seed", range(8))
def test_duplicates_are_removed_as_the_pairwise_definition_says(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    size, dim = int(rng.integers(40, 600)), int(rng.choice([8, 24, 64]))
    ranked, vectors, start = collection(seed, size, dim)
    for bar in (0.9, 0.97):
        for wanted in (1, 7, 60, 150, size):
            for start_vector in (start, None):
                expected = reference_without_duplicates(ranked, vectors, start_vector, bar, wanted)
                got = diversify.without_duplicates(ranked, lookup(vectors, dim), start_vector, bar, wanted)
                assert [i.id for i in got] == [i.id for i in expected], (bar, wanted)
    dropped = reference_without_duplicates(ranked, vectors, start, 0.9, size)
    assert len(dropped) < size  # the data really holds copies: the comparison is not vacuous


@pytest.mark.parametrize("seed", range(8))
def test_mmr_picks_as_the_pairwise_definition_says(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    size = int(rng.integers(2, 140))
    ranked, _, _ = collection(seed, max(size, 4), 8)
    ranked = ranked[:size]
    dims = {Affinity.FORMAL: 16, Affinity.CONCEPTUAL: 12, Affinity.HISTORICAL: 4}
    vectors = {a: {s.id: unit(rng.standard_normal(d)) for s in ranked} for a, d in dims.items()}
    lookups = {a: lookup(vectors[a], dims[a]) for a in dims}
    for weights in (
        {Affinity.FORMAL: 0.4, Affinity.CONCEPTUAL: 0.4, Affinity.HISTORICAL: 0.2},
        {Affinity.FORMAL: 1.0, Affinity.CONCEPTUAL: 0.0, Affinity.HISTORICAL: 0.0},
    ):
        for diversity in (0.0, 0.3, 0.7, 1.0):
            for wanted in (1, 5, 40, size):
                expected = reference_mmr(ranked, vectors, weights, wanted, diversity)
                got = diversify.mmr(ranked, lookups, weights, wanted, diversity)
                assert [i.id for i in got] == [i.id for i in expected], (weights, diversity, wanted)
