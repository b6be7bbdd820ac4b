"""The weighted composite vector: its dot product is the weighted sum of per-affinity cosines."""

from __future__ import annotations

import numpy as np
import pytest

from asterism.embed.base import Affinity, l2_normalise
from asterism.index.composite import DEFAULT_WEIGHTS, composite

F, C, H = Affinity.FORMAL, Affinity.CONCEPTUAL, Affinity.HISTORICAL


def parts(n: int, seed: int) -> dict[Affinity, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        F: l2_normalise(rng.standard_normal((n, 24))),
        C: l2_normalise(rng.standard_normal((n, 16))),
        H: l2_normalise(rng.standard_normal((n, 8))),
    }


def test_dot_product_equals_weighted_sum_of_cosines() -> None:
    a, b = parts(5, 0), parts(5, 1)
    got = composite(a) @ composite(b).T
    expected = sum(DEFAULT_WEIGHTS[name] * (a[name] @ b[name].T) for name in (F, C, H))
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert DEFAULT_WEIGHTS == {F: 0.4, C: 0.4, H: 0.2}


def test_custom_weights_are_renormalised_and_composites_of_unit_parts_are_unit() -> None:
    a, b = parts(4, 2), parts(4, 3)
    weights = {F: 2.0, C: 1.0, H: 1.0}
    got = composite(a, weights) @ composite(b, weights).T
    expected = 0.5 * (a[F] @ b[F].T) + 0.25 * (a[C] @ b[C].T) + 0.25 * (a[H] @ b[H].T)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(composite(a, weights), axis=1), 1.0, atol=1e-6)


def test_column_order_is_canonical_and_string_keys_work() -> None:
    a = parts(3, 4)
    shuffled = {H: a[H], F: a[F], C: a[C]}
    np.testing.assert_array_equal(composite(shuffled), composite(a))
    as_strings = {str(name): matrix for name, matrix in a.items()}
    np.testing.assert_array_equal(
        composite(as_strings, {"formal": 0.4, "conceptual": 0.4, "historical": 0.2}), composite(a)
    )


def test_single_vectors_zero_rows_and_bad_weights() -> None:
    a = parts(1, 5)
    single = composite({name: matrix[0] for name, matrix in a.items()})
    assert single.shape == (48,) and single.dtype == np.float32
    without_history = composite({F: a[F], C: a[C], H: np.zeros((1, 8), np.float32)})
    np.testing.assert_allclose(without_history @ composite(a).T, 0.4 + 0.4, atol=1e-6)  # zero part adds 0
    with pytest.raises(ValueError, match="no weight"):
        composite(a, {F: 1.0})
    with pytest.raises(ValueError, match="≥ 0"):
        composite(a, {F: -1.0, C: 1.0, H: 1.0})
    with pytest.raises(ValueError, match="rows"):
        composite({F: a[F], C: np.zeros((2, 16), np.float32)}, {F: 1.0, C: 1.0})
