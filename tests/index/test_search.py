"""MultiSearcher: query-time weights, missing affinities, exclusions and deterministic order."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from asterism.embed.base import Affinity, l2_normalise
from asterism.index.faiss_index import VectorIndex
from asterism.index.search import MultiSearcher
from asterism.index.vectors import ModelMismatch, VectorSet

F, C, H = Affinity.FORMAL, Affinity.CONCEPTUAL, Affinity.HISTORICAL
DIMS = {F: 16, C: 12, H: 8}
A, B, TWIN_B, NO_HISTORY = 1, 2, 9, 4


def toward(dim: int, cosine: float) -> np.ndarray:
    """A unit vector with the given cosine to e0."""
    vector = np.zeros(dim, dtype=np.float32)
    vector[0], vector[1] = cosine, np.sqrt(1 - cosine**2)
    return vector


def fillers(n: int, dim: int, seed: int) -> np.ndarray:
    """Random unit vectors orthogonal to e0 (cosine exactly 0 with the queries below)."""
    matrix = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    matrix[:, 0] = 0
    return l2_normalise(matrix)


@pytest.fixture
def searcher(tmp_path: Path) -> MultiSearcher:
    """A is formally closest to the query, B (and its twin) conceptually closest; both share history."""
    cosines = {
        A: {F: 1.0, C: 0.3, H: 0.5},
        B: {F: 0.3, C: 1.0, H: 0.5},
        TWIN_B: {F: 0.3, C: 1.0, H: 0.5},
        NO_HISTORY: {F: 0.2, C: 0.2},
    }
    filler_ids = np.arange(100, 400, dtype=np.int64)
    indexes, vectors = {}, {}
    for affinity, dim in DIMS.items():
        special = [i for i in cosines if affinity in cosines[i]]
        ids = np.concatenate([np.array(special, dtype=np.int64), filler_ids])
        matrix = np.concatenate(
            [
                np.stack([toward(dim, cosines[i][affinity]) for i in special]),
                fillers(len(filler_ids), dim, seed=dim),
            ]
        )
        VectorSet.from_arrays(ids, matrix, model=f"{affinity}@1").save(tmp_path / affinity)
        vectors[affinity] = VectorSet.open(tmp_path / affinity)  # memory-mapped, as at query time
        kind = "hnsw" if affinity == F else "flat"
        indexes[affinity] = VectorIndex.build(ids, matrix, kind=kind)  # type: ignore[arg-type]
    return MultiSearcher(indexes, vectors)


def query() -> dict[Affinity, np.ndarray | None]:
    return {affinity: toward(dim, 1.0) for affinity, dim in DIMS.items()}


def test_weights_change_the_order_in_the_expected_direction(searcher: MultiSearcher) -> None:
    formal_first = searcher.search(query(), {F: 0.8, C: 0.2}, k=3)
    assert formal_first[0].id == A and formal_first[0].total == pytest.approx(0.8 + 0.2 * 0.3)
    conceptual_first = searcher.search(query(), {F: 0.2, C: 0.8}, k=3)
    assert [h.id for h in conceptual_first] == [B, TWIN_B, A]
    assert conceptual_first[0].total == pytest.approx(0.2 * 0.3 + 0.8)
    hit = conceptual_first[2]
    assert hit.scores[F] == pytest.approx(1.0) and hit.scores[C] == pytest.approx(0.3)
    assert hit.scores[H] == pytest.approx(0.5)  # weight 0 is still explained


def test_a_missing_query_vector_gets_weight_zero_and_the_rest_is_renormalised(
    searcher: MultiSearcher,
) -> None:
    weights = {F: 0.4, C: 0.4, H: 0.2}
    full = searcher.search(query(), weights, k=1)[0]
    assert full.id == A and full.total == pytest.approx(0.4 * 1.0 + 0.4 * 0.3 + 0.2 * 0.5)
    upload = {**query(), H: None}  # an upload has no historical vector
    partial = searcher.search(upload, weights, k=4)
    assert partial[0].total == pytest.approx(0.5 * 1.0 + 0.5 * 0.3)
    assert H not in partial[0].scores
    assert searcher.search({F: None, C: None, H: None}, weights, k=3) == []


def test_a_candidate_without_a_vector_scores_zero_in_that_affinity(searcher: MultiSearcher) -> None:
    hits = {h.id: h for h in searcher.search(query(), {F: 0.4, C: 0.4, H: 0.2}, k=10)}
    assert H not in hits[NO_HISTORY].scores
    assert hits[NO_HISTORY].total == pytest.approx(0.4 * 0.2 + 0.4 * 0.2)


def test_exclusions_are_honoured_and_k_is_still_filled(searcher: MultiSearcher) -> None:
    hits = searcher.search(query(), {F: 1.0}, k=5, n_candidates=5, exclude=[A, B])
    assert len(hits) == 5 and A not in {h.id for h in hits} and B not in {h.id for h in hits}
    assert hits[0].id == TWIN_B


def test_ties_break_by_id_and_repeat_exactly(searcher: MultiSearcher) -> None:
    equal = searcher.search(query(), {F: 0.5, C: 0.5}, k=3)
    assert [h.id for h in equal] == [A, B, TWIN_B]  # A and B tie at 0.65; B and its twin tie too
    assert equal[0].total == equal[1].total == equal[2].total
    assert all(searcher.search(query(), {F: 0.5, C: 0.5}, k=3) == equal for _ in range(3))
    assert [h.id for h in equal] == [h.id for h in searcher.search(query(), {F: 5, C: 5}, k=3)]


def test_bad_weights_and_dimensions_are_rejected(searcher: MultiSearcher) -> None:
    with pytest.raises(ValueError, match="≥ 0"):
        searcher.search(query(), {F: -1.0}, k=3)
    with pytest.raises(ValueError, match="dimension"):
        searcher.search({F: np.ones(3, np.float32)}, {F: 1.0}, k=3)
    assert searcher.search(query(), {F: 0.0, C: 0.0}, k=3) == []


def test_results_equal_brute_force_weighted_search_on_a_larger_set() -> None:
    rng = np.random.default_rng(0)
    ids = rng.permutation(np.arange(1, 10_000))[:3000].astype(np.int64)
    data = {affinity: l2_normalise(rng.standard_normal((3000, dim))) for affinity, dim in DIMS.items()}
    searcher = MultiSearcher(
        {str(a): VectorIndex.build(ids, m) for a, m in data.items()},  # string keys, as the build stage uses
        {str(a): (ids, m) for a, m in data.items()},  # plain (ids, matrix) arrays are wrapped
    )
    for trial in range(5):
        weights = dict(zip((F, C, H), rng.dirichlet(np.ones(3)), strict=True))
        row = int(rng.integers(3000))
        q = {a: m[row] for a, m in data.items()}
        totals = sum(weights[a] * (data[a] @ q[a]) for a in data)
        expected = ids[np.lexsort((ids, -totals))][1:11].tolist()
        got = searcher.search(q, weights, k=10, exclude=[int(ids[row])])
        assert [h.id for h in got] == expected, trial
        np.testing.assert_allclose([h.total for h in got], np.sort(totals)[::-1][1:11], rtol=1e-5)


def test_an_index_and_vectors_of_different_models_are_refused() -> None:
    ids, matrix = np.arange(1, 6), fillers(5, 16, seed=0)
    with pytest.raises(ModelMismatch, match="formal@2"):
        MultiSearcher(
            {F: VectorIndex.build(ids, matrix, model="formal@1")},
            {F: VectorSet.from_arrays(ids, matrix, model="formal@2")},
        )
