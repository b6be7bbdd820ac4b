"""The metrics against cases computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from asterism.eval.metrics import (
    binomial_interval,
    coverage,
    intra_list_diversity,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
)


def test_recall_by_hand() -> None:
    ranked = [5, 3, 9, 1, 7]
    assert recall_at_k(ranked, {3, 7, 8}, 2) == pytest.approx(1 / 3)  # 3 found, 7 and 8 not in the top 2
    assert recall_at_k(ranked, {3, 7, 8}, 5) == pytest.approx(2 / 3)
    assert recall_at_k(ranked, {5}, 1) == 1.0
    with pytest.raises(ValueError):
        recall_at_k(ranked, set(), 5)


def test_reciprocal_rank_by_hand() -> None:
    assert reciprocal_rank([5, 3, 9], {9}) == pytest.approx(1 / 3)
    assert reciprocal_rank([5, 3, 9], {3, 9}) == pytest.approx(1 / 2)
    assert reciprocal_rank([5, 3, 9], {4}) == 0.0


def test_ndcg_by_hand() -> None:
    # relevant at ranks 1 and 3 of 3; two relevant items exist.
    dcg = 1 / math.log2(2) + 1 / math.log2(4)
    ideal = 1 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at_k([1, 2, 3], {1, 3}, 3) == pytest.approx(dcg / ideal)
    assert ndcg_at_k([1, 3, 2], {1, 3}, 3) == pytest.approx(1.0)
    assert ndcg_at_k([2, 4, 6], {1, 3}, 3) == 0.0
    # more relevant items than K: the ideal has K relevant items
    assert ndcg_at_k([1, 2], {1, 2, 3, 4}, 2) == pytest.approx(1.0)


def test_coverage_and_diversity_by_hand() -> None:
    assert coverage([[1, 2, 3], [3, 4, 5]], 10, k=2) == pytest.approx(4 / 10)  # {1, 2, 3, 4}
    same = np.array([[1.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    assert intra_list_diversity(same) == pytest.approx(0.0)
    orthogonal = np.eye(3, dtype=np.float32)
    assert intra_list_diversity(orthogonal) == pytest.approx(1.0)
    assert intra_list_diversity(orthogonal[:1]) == 0.0


def test_wilson_interval_by_hand() -> None:
    low, high = binomial_interval(7, 10)
    # Wilson 95% for 7/10: (0.397, 0.892)
    assert low == pytest.approx(0.3968, abs=1e-3) and high == pytest.approx(0.8922, abs=1e-3)
    assert binomial_interval(0, 0) == (0.0, 1.0)
