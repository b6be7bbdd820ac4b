"""The rankers under evaluation, each a function (query vectors, query id) -> ranked ids.

Single affinities, the blueprint's single composite vector and the hybrid
recommender are compared with two baselines: random order, and metadata-only
text (TF-IDF over title, classification, medium and description; artist,
styles, subjects and dates are left out because they define the relevance
notions, so using them would be reading the answer key).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix

from asterism.embed.base import AFFINITIES, Affinity, Vectors, l2_normalise
from asterism.index.vectors import Ids
from asterism.shapes import Artwork

DEFAULT_WEIGHTS = {Affinity.FORMAL: 0.4, Affinity.CONCEPTUAL: 0.4, Affinity.HISTORICAL: 0.2}


@dataclass(frozen=True)
class Ask:
    """One evaluation query: its vectors, the stored work it stands for, and what it must never see.

    ``held_out`` holds the work itself and every served copy of its picture: no
    method may return them (by id, the work is its own best match; by image, a
    copy of the picture would be a free hit).
    """

    vectors: dict[Affinity, Vectors]
    work: int
    held_out: frozenset[int]
    by_image: bool = False


Ranker = Callable[[Ask, int], list[int]]


class Universe:
    """The works a ranking may return, with their vectors aligned by row."""

    def __init__(self, ids: Ids, vectors: dict[Affinity, Vectors]) -> None:
        self.ids = ids
        self.vectors = vectors
        self._row = {int(i): n for n, i in enumerate(ids)}

    def row(self, artwork_id: int) -> int | None:
        return self._row.get(int(artwork_id))

    def top(self, scores: npt.NDArray[np.float64], held_out: frozenset[int], k: int) -> list[int]:
        order = np.lexsort((self.ids, -scores))
        ranked = [int(self.ids[i]) for i in order[: k + len(held_out)] if int(self.ids[i]) not in held_out]
        return ranked[:k]


def affinity_ranker(universe: Universe, affinity: Affinity) -> Ranker:
    matrix = universe.vectors[affinity].astype(np.float64)

    def rank(ask: Ask, k: int) -> list[int]:
        vector = ask.vectors.get(affinity)
        if vector is None:
            return []
        return universe.top(matrix @ vector.astype(np.float64), ask.held_out, k)

    return rank


def composite_ranker(universe: Universe, weights: dict[Affinity, float] = DEFAULT_WEIGHTS) -> Ranker:
    """One vector per work: √w-scaled affinities concatenated (the blueprint's composite index)."""
    parts = [a for a in AFFINITIES if a in universe.vectors]
    matrix = np.concatenate([math.sqrt(weights[a]) * universe.vectors[a] for a in parts], axis=1).astype(
        np.float64
    )

    def rank(ask: Ask, k: int) -> list[int]:
        # an affinity the query lacks (an upload's history, when not inferred) counts as zero
        vector = np.concatenate(
            [
                math.sqrt(weights[a]) * ask.vectors.get(a, np.zeros(universe.vectors[a].shape[1], np.float32))
                for a in parts
            ]
        )
        return universe.top(matrix @ vector.astype(np.float64), ask.held_out, k)

    return rank


def random_ranker(universe: Universe, seed: int = 0) -> Ranker:
    rng = np.random.default_rng(seed)

    def rank(ask: Ask, k: int) -> list[int]:
        return universe.top(rng.random(len(universe.ids)), ask.held_out, k)

    return rank


def metadata_text(artwork: Artwork) -> str:
    return " ".join(
        x for x in (artwork.title, artwork.classification, artwork.medium, artwork.description) if x
    )


def tfidf(documents: Sequence[str]) -> csr_matrix:
    """L2-normalised TF-IDF rows (smooth idf), tokens of 3+ letters, lower case."""
    tokens = [re.findall(r"[^\W\d_]{3,}", text.lower()) for text in documents]
    vocabulary: dict[str, int] = {}
    rows, cols, values = [], [], []
    for row, words in enumerate(tokens):
        for word, count in Counter(words).items():
            rows.append(row)
            cols.append(vocabulary.setdefault(word, len(vocabulary)))
            values.append(float(count))
    n = len(documents)
    matrix = csr_matrix((values, (rows, cols)), shape=(n, max(1, len(vocabulary))))
    df = np.bincount(matrix.indices, minlength=matrix.shape[1])
    idf = np.log((1 + n) / (1 + df)) + 1
    matrix = matrix.multiply(idf).tocsr()
    norms = np.sqrt(matrix.multiply(matrix).sum(axis=1)).A1
    norms[norms == 0] = 1.0
    return csr_matrix(matrix.multiply(1 / norms[:, None]))


def text_ranker(universe: Universe, artworks: Mapping[int, Artwork]) -> Ranker:
    matrix = tfidf([metadata_text(artworks[int(i)]) for i in universe.ids])

    def rank(ask: Ask, k: int) -> list[int]:
        row = None if ask.by_image else universe.row(ask.work)
        if row is None:  # an upload has no metadata: this baseline cannot rank it
            return []
        scores = (matrix @ matrix.getrow(row).T).toarray().ravel()
        return universe.top(scores, ask.held_out, k)

    return rank


def vectors_for(ids: Ids, stores: dict[Affinity, object]) -> dict[Affinity, Vectors]:
    out = {}
    for affinity, store in stores.items():
        found, rows = store.get(ids)  # type: ignore[attr-defined]
        out[affinity] = l2_normalise(np.where(found[:, None], rows, 0.0))
    return out
