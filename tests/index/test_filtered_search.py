"""Search inside an admitted set: ``within`` fills every slot from admitted works, with exclusions honoured."""

from __future__ import annotations

import numpy as np
import pytest

from asterism.embed.base import Affinity, l2_normalise
from asterism.index.faiss_index import VectorIndex
from asterism.index.search import SCORE_ALL, MultiSearcher

F, C = Affinity.FORMAL, Affinity.CONCEPTUAL
SIZE = 12_000


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, dict[Affinity, np.ndarray]]:
    rng = np.random.default_rng(3)
    ids = rng.permutation(np.arange(10, 10 + 2 * SIZE))[:SIZE].astype(np.int64)  # sparse, unordered
    latent = rng.standard_normal((SIZE, 8))
    matrices = {
        affinity: l2_normalise(
            (latent @ rng.standard_normal((8, dim)) + rng.standard_normal((SIZE, dim))).astype(np.float32)
        )
        for affinity, dim in ((F, 24), (C, 16))
    }
    return ids, matrices


def best_within(
    ids: np.ndarray, matrix: np.ndarray, query: np.ndarray, within: np.ndarray, k: int
) -> list[int]:
    rows = np.isin(ids, within)
    scores = matrix[rows] @ query
    return [int(i) for i in ids[rows][np.lexsort((ids[rows], -scores))][:k]]


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_an_index_searched_within_a_set_returns_k_admitted_works(
    data: tuple[np.ndarray, dict[Affinity, np.ndarray]], kind: str
) -> None:
    ids, matrices = data
    index = VectorIndex.build(ids, matrices[F], kind=kind)  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    within = np.sort(rng.choice(ids, SIZE // 4, replace=False))  # a quarter: where HNSW still fills
    for row in rng.choice(SIZE, 5, replace=False):
        query = matrices[F][row]
        excluded = best_within(ids, matrices[F], query, within, 3)
        _, found = index.search(query, 50, within=within, exclude=excluded)
        assert len(found[0]) == 50 and np.isin(found[0], within).all()
        assert not np.isin(found[0], excluded).any()
        expected = best_within(ids, matrices[F], query, np.setdiff1d(within, excluded), 50)
        overlap = len(set(found[0].tolist()) & set(expected)) / 50
        assert overlap == 1.0 if kind == "flat" else overlap >= 0.9


def test_an_empty_admitted_set_returns_empty_slots(
    data: tuple[np.ndarray, dict[Affinity, np.ndarray]],
) -> None:
    ids, matrices = data
    index = VectorIndex.build(ids[:100], matrices[F][:100], kind="flat")
    scores, found = index.search_padded(matrices[F][:2], 5, within=ids[:3], exclude=ids[:3])
    assert found.shape == (2, 5) and (found == -1).all() and np.isneginf(scores).all()


@pytest.mark.parametrize("share", [0.01, 0.5])  # scored in full, then through each index's selector
def test_the_searcher_within_a_set_equals_brute_force(
    data: tuple[np.ndarray, dict[Affinity, np.ndarray]], share: float
) -> None:
    ids, matrices = data
    searcher = MultiSearcher(
        {a: VectorIndex.build(ids, m) for a, m in matrices.items()},
        {a: (ids, m) for a, m in matrices.items()},
    )
    rng = np.random.default_rng(1)
    within = np.sort(rng.choice(ids, int(share * SIZE), replace=False))
    assert (len(within) <= SCORE_ALL) == (share < 0.1)
    weights = {F: 0.7, C: 0.3}
    for row in rng.choice(SIZE, 4, replace=False):
        query = {a: m[row] for a, m in matrices.items()}
        totals = sum(w * (matrices[a] @ query[a]) for a, w in weights.items())
        start = int(ids[row])
        admitted = np.isin(ids, within) & (ids != start)
        expected = ids[admitted][np.lexsort((ids[admitted], -totals[admitted]))][:10].tolist()
        hits = searcher.search(query, weights, k=10, exclude=[start], within=within)
        assert [h.id for h in hits] == expected
        pooled = searcher.candidates(query, 40, exclude=[start], within=within)
        assert np.isin(pooled, within).all() and start not in pooled
        assert len(pooled) >= min(40, int(admitted.sum()))
