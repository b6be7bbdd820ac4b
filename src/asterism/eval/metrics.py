"""Ranking metrics over one query's ranked ids and its set of relevant ids.

Definitions (the usual ones, written out because papers differ):
- Recall@K: |relevant ∩ top K| / |relevant| (queries with no relevant item are skipped by callers).
- MRR: 1 / rank of the first relevant item (0 if none is ranked).
- nDCG@K: binary gains, DCG = Σ_{i≤K} rel_i / log2(i + 1), normalised by the ideal DCG
  of min(K, |relevant|) relevant items first.
- Coverage: share of the catalogue that appears in at least one top-K list.
- Intra-list diversity: mean pairwise (1 − cosine) between the items of one list.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt


def recall_at_k(ranked: Sequence[int], relevant: set[int], k: int) -> float:
    if not relevant:
        raise ValueError("recall is undefined without relevant items")
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def reciprocal_rank(ranked: Sequence[int], relevant: set[int]) -> float:
    for position, item in enumerate(ranked, start=1):
        if item in relevant:
            return 1.0 / position
    return 0.0


def ndcg_at_k(ranked: Sequence[int], relevant: set[int], k: int) -> float:
    if not relevant:
        raise ValueError("nDCG is undefined without relevant items")
    dcg = sum(1.0 / math.log2(i + 1) for i, item in enumerate(ranked[:k], start=1) if item in relevant)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(k, len(relevant)) + 1))
    return dcg / ideal


def coverage(lists: Iterable[Sequence[int]], catalogue_size: int, k: int) -> float:
    if catalogue_size <= 0:
        return 0.0
    seen: set[int] = set()
    for ranked in lists:
        seen.update(ranked[:k])
    return len(seen) / catalogue_size


def intra_list_diversity(vectors: npt.NDArray[np.float32]) -> float:
    """Mean of 1 − cos over distinct pairs of unit rows (0 for fewer than two items)."""
    n = len(vectors)
    if n < 2:
        return 0.0
    sims = vectors @ vectors.T
    upper = sims[np.triu_indices(n, k=1)]
    return float(np.mean(1.0 - upper))


def binomial_interval(wins: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a win rate (95% by default): honest for small samples."""
    if trials <= 0:
        return (0.0, 1.0)
    p = wins / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))
