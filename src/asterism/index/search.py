"""Search with query-time weights: each affinity's index, candidates merged, re-scored exactly.

Weights are a property of the question, not of the index: a person who
moves the "formal" slider must not wait for a rebuild. So every affinity
index is searched for its top-N, the candidates are pooled, and each is
re-scored from the stored vectors as Σ w_a · cos_a with the weights of this
query (an affinity the query has no vector for, such as history for a bare
upload, gets weight 0 and the others are renormalised). Ties break by id, so
the same question always gets the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from asterism.index.faiss_index import VectorIndex

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Hit:
    id: int
    score: float
    scores: dict[str, float]  # cosine per affinity


def composite(parts: Mapping[str, Matrix], weights: Mapping[str, float]) -> Matrix:
    """The blueprint's single composite vector: [√w_a · v_a]; its dot product is Σ w_a cos_a."""
    total = sum(weights[name] for name in parts) or 1.0
    return np.concatenate(
        [np.sqrt(weights[name] / total) * np.atleast_2d(parts[name]) for name in parts], axis=1
    ).astype(np.float32)


class MultiSearcher:
    """Per-affinity indexes plus the stored vectors they were built from (for exact re-scoring)."""

    def __init__(self, indexes: Mapping[str, VectorIndex], vectors: Mapping[str, tuple[np.ndarray, Matrix]]):
        self.indexes = dict(indexes)
        self._rows = {name: {int(i): r for r, i in enumerate(ids)} for name, (ids, _) in vectors.items()}
        self._matrices = {name: matrix for name, (_, matrix) in vectors.items()}

    def vector(self, affinity: str, artwork_id: int) -> Matrix | None:
        row = self._rows.get(affinity, {}).get(int(artwork_id))
        return None if row is None else self._matrices[affinity][row]

    def search(
        self,
        query: Mapping[str, Matrix | None],
        weights: Mapping[str, float],
        k: int,
        *,
        n_candidates: int = 200,
        exclude: Iterable[int] = (),
    ) -> list[Hit]:
        active = {
            name: np.asarray(vector, dtype=np.float32)
            for name, vector in query.items()
            if vector is not None
            and weights.get(name, 0.0) > 0
            and name in self.indexes
            and float(np.linalg.norm(vector)) > 0
        }
        if not active:
            return []
        total = sum(weights[name] for name in active)
        shares = {name: weights[name] / total for name in active}
        excluded = set(int(i) for i in exclude)
        candidates: set[int] = set()
        for name, vector in active.items():
            _, ids = self.indexes[name].search(vector, n_candidates + len(excluded))
            candidates.update(int(i) for i in ids[0] if i >= 0 and int(i) not in excluded)
        hits = []
        for candidate in candidates:
            scores = {}
            for name, vector in active.items():
                stored = self.vector(name, candidate)
                scores[name] = float(stored @ vector) if stored is not None else 0.0
            hits.append(Hit(candidate, sum(shares[n] * s for n, s in scores.items()), scores))
        hits.sort(key=lambda h: (-h.score, h.id))
        return hits[:k]
