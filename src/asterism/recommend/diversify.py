"""What keeps a page of results worth looking at: no copies of the start or of each other, and variety.

Both steps work on the formal / per-affinity vectors of a window of the
ranked list (a few times the page), never on the whole collection, so their
cost is set by the page asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

import numpy as np

from asterism.embed.base import AFFINITIES, Affinity, Vectors


class Ranked(Protocol):
    id: int
    total: float


R = TypeVar("R", bound=Ranked)
# ids -> (found mask, rows): the stored vectors of one affinity (``VectorSet.get``)
Lookup = Callable[[list[int]], tuple[np.ndarray, Vectors]]


def without_duplicates(
    ranked: Sequence[R], formal: Lookup, start_formal: Vectors | None, bar: float, wanted: int
) -> list[R]:
    """Drop copies of the start picture and of each other (formal cosine ≥ ``bar``)."""
    kept: list[R] = []
    kept_vectors: list[Vectors] = []
    window = list(ranked[: max(wanted * 4, wanted + 20)])
    found, rows = formal([s.id for s in window])
    for item, ok, row in zip(window, found, rows, strict=True):
        if ok and start_formal is not None and float(row @ start_formal) >= bar:
            continue
        if ok and any(float(row @ other) >= bar for other in kept_vectors):
            continue
        kept.append(item)
        if ok:
            kept_vectors.append(row)
        if len(kept) >= wanted:
            break
    return kept


def mmr(
    ranked: Sequence[R],
    lookups: Mapping[Affinity, Lookup],
    weights: Mapping[Affinity, float],
    wanted: int,
    diversity: float,
) -> list[R]:
    """Maximal marginal relevance: trade score against similarity to what is already chosen.

    Similarity between two results is their weighted cosine under this
    query's weights, so "variety" means variety in what the person asked for.
    """
    pool = list(ranked[: max(wanted * 5, wanted)])
    if diversity <= 0 or len(pool) <= 1:
        return pool[:wanted]
    blocks = []
    for affinity in AFFINITIES:
        share = weights.get(affinity, 0.0)
        if affinity not in lookups or share <= 0:
            continue
        _, rows = lookups[affinity]([s.id for s in pool])
        blocks.append(np.sqrt(share) * rows)
    if not blocks:
        return pool[:wanted]
    matrix = np.concatenate(blocks, axis=1)
    similarity = matrix @ matrix.T
    chosen: list[int] = []
    remaining = list(range(len(pool)))
    while remaining and len(chosen) < wanted:

        def value(i: int) -> tuple[float, int]:
            redundancy = max((float(similarity[i, j]) for j in chosen), default=0.0)
            return ((1 - diversity) * pool[i].total - diversity * redundancy, -pool[i].id)

        best = max(remaining, key=value)
        chosen.append(best)
        remaining.remove(best)
    return [pool[i] for i in chosen]
