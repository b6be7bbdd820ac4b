"""The graph stage's k-NN at its own efSearch, and the recall it reports for the edges.

The graph's k-NN may search at a lower efSearch than queries (``graph.build_ef``): these tests
show that the lower efSearch is really used (fewer exact neighbours on data HNSW finds hard),
that the index's tuned efSearch is left alone, and that ``edge_recall`` measures exactly the
share of the true top K the edges hold (1.0 for an exact search, lower for a starved one).
"""

from __future__ import annotations

import numpy as np
import pytest

from asterism.graph.edges import EdgeSet, edge_recall, exact_neighbours, knn_edges, tune_build_ef
from asterism.index.faiss_index import IndexConfig, VectorIndex
from asterism.index.vectors import VectorSet


def hard(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """Many small low-rank clusters in a high dimension: HNSW needs a wide efSearch here."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n // 20, dim))
    rows = centres[rng.integers(len(centres), size=n)] * 0.5 + rng.standard_normal((n, dim))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_exact_neighbours_is_brute_force_with_self_exclusions_and_threshold() -> None:
    matrix = hard(3000, 24)
    ids = np.arange(5000, 8000, dtype=np.int64)
    vectors = VectorSet.from_arrays(ids, matrix)
    sources, banned = ids[[0, 17, 2999]], ids[100:400]
    got = exact_neighbours(vectors, sources, k=7, threshold=0.2, exclude=banned)
    sims = matrix[[0, 17, 2999]] @ matrix.T
    for row, source in enumerate(sources):
        sims[row, source - 5000] = -np.inf
        sims[row, 100:400] = -np.inf
        expected = {int(ids[j]) for j in np.argsort(-sims[row])[:7] if sims[row, j] >= 0.2}
        assert got[row] == expected


def test_exact_neighbours_across_blocks_equals_one_block(monkeypatch: object) -> None:
    import asterism.graph.edges as edges_module

    matrix = hard(2000, 16, seed=3)
    ids = np.arange(2000, dtype=np.int64) + 1
    vectors = VectorSet.from_arrays(ids, matrix)
    whole = exact_neighbours(vectors, ids[:50], k=10, threshold=-1.0)
    edges_module.EXACT_BLOCK, saved = 7, edges_module.EXACT_BLOCK  # blocks smaller than k
    try:
        blocked = exact_neighbours(vectors, ids[:50], k=10, threshold=-1.0)
    finally:
        edges_module.EXACT_BLOCK = saved
    assert blocked == whole and all(len(row) == 10 for row in whole)


def test_edge_recall_is_one_for_an_exact_knn_and_counts_what_is_missing() -> None:
    matrix = hard(1500, 32, seed=1)
    ids = np.arange(1, 1501, dtype=np.int64)
    vectors = VectorSet.from_arrays(ids, matrix)
    exact = knn_edges("FORMAL_SIM", VectorIndex.build(ids, matrix, kind="flat"), vectors, k=8, threshold=-1.0)
    assert edge_recall(exact, vectors, k=8, threshold=-1.0, sample=1500) == 1.0
    # drop every other edge of every work: recall 0.5 exactly
    order = np.lexsort((-exact.weight, exact.src))
    halved = np.zeros(len(exact), bool)
    halved[order[::2]] = True
    half = EdgeSet("FORMAL_SIM", exact.src[halved], exact.dst[halved], exact.weight[halved])
    assert edge_recall(half, vectors, k=8, threshold=-1.0, sample=1500) == 0.5


@pytest.fixture(scope="module")
def starved() -> tuple[VectorSet, VectorIndex]:
    """An HNSW index built cheaply over hard data, queries' efSearch fixed at 256."""
    matrix = hard(4000, 64, seed=2)
    vectors = VectorSet.from_arrays(np.arange(1, 4001, dtype=np.int64), matrix)
    config = IndexConfig(kind="hnsw", hnsw_m=8, ef_construction=16, target_recall=None, ef_search=256)
    return vectors, VectorIndex.build(vectors.ids, matrix, config=config)


def test_a_lower_build_ef_is_used_costs_recall_and_leaves_the_tuned_ef_alone(
    starved: tuple[VectorSet, VectorIndex],
) -> None:
    vectors, index = starved
    some = vectors.ids[::4]
    wide = knn_edges("FORMAL_SIM", index, vectors, k=10, threshold=-1.0, only=some)
    narrow = knn_edges("FORMAL_SIM", index, vectors, k=10, threshold=-1.0, only=some, ef=11)
    assert index.ef_search == 256
    wide_recall = edge_recall(wide, vectors, k=10, threshold=-1.0, sample=300)
    narrow_recall = edge_recall(narrow, vectors, k=10, threshold=-1.0, sample=300)
    assert wide_recall > narrow_recall + 0.05, (wide_recall, narrow_recall)
    assert len(narrow) == len(wide) == 10 * len(some)  # the same number of edges, fewer of them exact


def test_the_build_ef_is_the_smallest_reaching_the_target_and_never_above_the_queries(
    starved: tuple[VectorSet, VectorIndex],
) -> None:
    vectors, index = starved
    some = vectors.ids[1::4]  # edges built for other works than the ones tuned on (seed 1)
    recalls = {}
    for target in (0.5, 0.8, 1.0):
        ef = tune_build_ef("FORMAL_SIM", index, vectors, k=10, threshold=-1.0, target=target)
        assert ef is not None and ef <= 256
        edges = knn_edges("FORMAL_SIM", index, vectors, k=10, threshold=-1.0, only=some, ef=ef)
        recalls[target] = (ef, edge_recall(edges, vectors, k=10, threshold=-1.0, sample=400, seed=7))
    (low_ef, low), (mid_ef, mid), (top_ef, _) = recalls[0.5], recalls[0.8], recalls[1.0]
    assert low_ef < mid_ef <= top_ef == 256, recalls  # 1.0 is out of reach: the queries' efSearch
    assert low >= 0.5 - 0.05 and mid >= 0.8 - 0.05, recalls  # another sample: its sampling error
    flat = VectorIndex.build(vectors.ids, vectors.vectors, kind="flat")
    assert tune_build_ef("FORMAL_SIM", flat, vectors, k=10, threshold=-1.0, target=0.9) is None


def test_excluded_works_are_left_out_of_the_truth_the_recall_and_the_tuning_compare_with() -> None:
    rng = np.random.default_rng(4)
    matrix = rng.standard_normal((2000, 8)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    vectors = VectorSet.from_arrays(np.arange(1, 2001, dtype=np.int64), matrix)
    hidden = vectors.ids[::2]
    exact = knn_edges("F", VectorIndex.build(vectors.ids, matrix, kind="flat"), vectors, k=5, threshold=-1.0,
                      exclude=hidden)  # fmt: skip
    assert not np.isin(exact.dst, hidden).any() and not np.isin(exact.src, hidden).any()
    # counted against a truth that held the hidden works, these edges would miss about half of it
    assert edge_recall(exact, vectors, k=5, threshold=-1.0, exclude=hidden) == 1.0
    assert edge_recall(exact, vectors, k=5, threshold=-1.0) < 0.7
    config = IndexConfig(kind="hnsw", ef_construction=200, target_recall=None, ef_search=512)
    index = VectorIndex.build(vectors.ids, matrix, config=config)
    ef = tune_build_ef("F", index, vectors, k=5, threshold=-1.0, target=1.0, exclude=hidden)
    # reachable only when the truth leaves out what the search leaves out
    assert ef is not None and ef < 512
