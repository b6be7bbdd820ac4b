"""What an evaluation query must never be shown: the work itself and every served copy of its picture.

By id, a work is its own best match; by image, the stored copy of the
picture is a free hit, and so is any other record showing the same picture
(the same file, the same perceptual hash, or a formal vector at the
recommender's near-duplicate bar). Each by-image query is embedded with
these works held out of everything it touches (history inference, graph
anchor, candidates), and every method's list is checked against them.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from asterism.embed.base import Affinity, Vectors
from asterism.eval.methods import Universe
from asterism.recommend.catalogue import Catalogue


def copies(catalogue: Catalogue, universe: Universe, bar: float) -> dict[int, frozenset[int]]:
    """work id -> the works to hold out when it is the query (itself included)."""
    by_sha: defaultdict[str, set[int]] = defaultdict(set)
    by_phash: defaultdict[str, set[int]] = defaultdict(set)
    for work_id, artwork in catalogue.records.items():
        if artwork.image is not None:
            by_sha[artwork.image.sha256].add(work_id)
            by_phash[artwork.image.phash].add(work_id)
    formal: Vectors | None = universe.vectors.get(Affinity.FORMAL)
    out: dict[int, frozenset[int]] = {}
    for work_id, artwork in catalogue.records.items():
        held = {work_id}
        if artwork.image is not None:
            held |= by_sha[artwork.image.sha256] | by_phash[artwork.image.phash]
        row = universe.row(work_id)
        if formal is not None and row is not None and formal[row].any():
            close = np.flatnonzero(formal @ formal[row] >= bar)
            held |= {int(universe.ids[i]) for i in close}
        out[work_id] = frozenset(held)
    return out


def leaks(lists: dict[str, dict[int, list[int]]], held: dict[int, frozenset[int]]) -> dict[str, int]:
    """method -> how many held-out works its lists contain (0 everywhere, or the figures are not honest)."""
    return {
        method: sum(len(held[query].intersection(ranked)) for query, ranked in by_query.items())
        for method, by_query in lists.items()
    }
