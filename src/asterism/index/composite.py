"""The blueprint's weighted composite vector: one index that already knows the weights.

For unit vectors v_a (one per affinity) the composite is the concatenation
of √w_a · v_a, so the dot product of two composites is Σ w_a · cos_a, the
same weighted score the multi-affinity searcher computes, in one FAISS
search. Its limitation is why it is only a baseline: the weights are baked
in at build time, so a query with other weights needs the MultiSearcher.

Weights are renormalised to sum to 1 over the parts given, which keeps a
composite of unit parts a unit vector (a work is its own best match with
score 1). A zero row (a work without that affinity) contributes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np

from asterism.embed.base import AFFINITIES, Affinity, Vectors

DEFAULT_WEIGHTS: dict[Affinity, float] = {
    Affinity.FORMAL: 0.4,
    Affinity.CONCEPTUAL: 0.4,
    Affinity.HISTORICAL: 0.2,
}

Name = TypeVar("Name", bound=str)  # Affinity, or its plain string value


def _order(name: str) -> tuple[int, str]:
    """Canonical column order: formal, conceptual, historical, then anything else by name."""
    return (AFFINITIES.index(Affinity(name)) if name in set(AFFINITIES) else len(AFFINITIES), str(name))


def composite_weights(names: list[Name], weights: Mapping[Name, float] | None) -> dict[Name, float]:
    """The weights of ``names``, validated and renormalised to sum to 1."""
    source: Mapping[Any, float] = weights if weights is not None else DEFAULT_WEIGHTS
    raw = {}
    for name in names:
        if name not in source:
            raise ValueError(f"no weight for {name!r}")
        value = float(source[name])
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"weight of {name!r} must be finite and ≥ 0, got {value}")
        raw[name] = value
    total = sum(raw.values())
    if total <= 0:
        raise ValueError("at least one weight must be positive")
    return {name: value / total for name, value in raw.items()}


def composite(parts: Mapping[Name, Vectors], weights: Mapping[Name, float] | None = None) -> Vectors:
    """Concatenate √w_a · v_a over the parts (rows aligned by position); default weights 0.4/0.4/0.2.

    Accepts single vectors or matrices; columns are in canonical affinity
    order whatever the mapping's order, so composites built from differently
    ordered dicts are comparable.
    """
    if not parts:
        raise ValueError("no parts to combine")
    names = sorted(parts, key=_order)
    shares = composite_weights(names, weights)
    blocks = [np.atleast_2d(np.asarray(parts[name], dtype=np.float32)) for name in names]
    rows = {len(block) for block in blocks}
    if len(rows) != 1:
        raise ValueError(f"parts have different numbers of rows: {sorted(rows)}")
    single = all(np.asarray(parts[name]).ndim == 1 for name in names)
    result = np.concatenate(
        [np.float32(math.sqrt(shares[name])) * block for name, block in zip(names, blocks, strict=True)],
        axis=1,
    ).astype(np.float32, copy=False)
    combined: Vectors = result[0] if single else result
    return combined
