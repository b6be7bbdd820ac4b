"""What keeps a page of results worth looking at: no copies of the start or of each other, and variety.

Both steps work on the formal / per-affinity vectors of a window of the
ranked list (a few times the page), never on the whole collection, so their
cost is set by the page asked for. Both are greedy and sequential by nature
(whether a work stays depends on what stayed before it), but each step is a
matrix operation over the window: comparing every pair in Python loops made a
deep page (k·(page+1) in the thousands) run for minutes (bench/bounded_work.py).
The results are those of the plain pairwise definitions (tests/recommend/test_diversify.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from asterism.embed.base import AFFINITIES, Affinity, Vectors


class Ranked(Protocol):
    id: int
    total: float


R = TypeVar("R", bound=Ranked)
# ids -> (found mask, rows): the stored vectors of one affinity (``VectorSet.get``)
Lookup = Callable[[list[int]], tuple[np.ndarray, Vectors]]

BLOCK = 256  # rows compared at once while few are kept yet: later blocks grow to what is still wanted


def without_duplicates(
    ranked: Sequence[R], formal: Lookup, start_formal: Vectors | None, bar: float, wanted: int
) -> list[R]:
    """Drop copies of the start picture and of each other (formal cosine ≥ ``bar``), best first.

    A work is a copy when it is that close to the start or to a better-ranked work that was
    kept; works without a formal vector are always kept. The window is read in blocks: each
    block is compared with what was kept in one product, and with itself in another, so the
    Python loop runs only over the rare works that copy another in their own block.
    """
    window = list(ranked[: max(wanted * 4, wanted + 20)])
    if not window or wanted <= 0:
        return []
    found, rows = formal([s.id for s in window])
    found = np.asarray(found, dtype=bool)
    rows = np.asarray(rows)
    keep = found.copy()  # candidates still standing, among works with a vector
    if start_formal is not None and found.any():
        keep[found] = rows[found] @ np.asarray(start_formal, dtype=rows.dtype) < bar
    kept_rows = np.zeros((0, rows.shape[1]), dtype=rows.dtype)
    kept: list[R] = []
    begin = 0
    while begin < len(window) and len(kept) < wanted:
        end = min(len(window), begin + max(BLOCK, wanted - len(kept)))
        block = np.arange(begin, end)
        vectors = block[keep[block]]  # positions of this block's standing works with a vector
        if len(vectors) and len(kept_rows):
            near_kept = (rows[vectors] @ kept_rows.T >= bar).any(axis=1)
            keep[vectors[near_kept]] = False
            vectors = vectors[~near_kept]
        if len(vectors) > 1:
            _drop_copies_within(rows, vectors, keep, bar)
        chosen = block[keep[block] | ~found[block]][: wanted - len(kept)]
        kept.extend(window[i] for i in chosen)
        kept_rows = np.concatenate([kept_rows, rows[chosen[found[chosen]]]])
        begin = end
    return kept


def _drop_copies_within(
    rows: np.ndarray, positions: npt.NDArray[np.intp], keep: np.ndarray, bar: float
) -> None:
    """Within one block: a work that copies an earlier work still standing falls (in rank order)."""
    block = rows[positions]
    copies = np.triu(block @ block.T >= bar, k=1)  # [i, j]: j copies the earlier i
    standing = np.ones(len(positions), dtype=bool)
    for j in np.flatnonzero(copies.any(axis=0)):  # whether i stands is settled before j: i < j
        if (copies[:j, j] & standing[:j]).any():
            standing[j] = False
    keep[positions[~standing]] = False


def mmr(
    ranked: Sequence[R],
    lookups: Mapping[Affinity, Lookup],
    weights: Mapping[Affinity, float],
    wanted: int,
    diversity: float,
) -> list[R]:
    """Maximal marginal relevance: trade score against similarity to what is already chosen.

    Similarity between two results is their weighted cosine under this
    query's weights, so "variety" means variety in what the person asked for.
    Each pick takes the best ``(1 − λ)·score − λ·max similarity to the chosen``
    (ties: the lower id), then folds its similarity row into every remaining
    work's running maximum: O(n) per pick after one n×n product, instead of
    re-reading every chosen pair for every candidate at every pick.
    """
    pool = list(ranked[: max(wanted * 5, wanted)])
    if diversity <= 0 or len(pool) <= 1:
        return pool[:wanted]
    blocks = []
    for affinity in AFFINITIES:
        share = weights.get(affinity, 0.0)
        if affinity not in lookups or share <= 0:
            continue
        _, rows = lookups[affinity]([s.id for s in pool])
        blocks.append(np.sqrt(share) * rows)
    if not blocks:
        return pool[:wanted]
    matrix = np.concatenate(blocks, axis=1)
    similarity = matrix @ matrix.T
    relevance = (1 - diversity) * np.asarray([s.total for s in pool], dtype=np.float64)
    ids = np.asarray([s.id for s in pool], dtype=np.int64)
    redundancy = np.zeros(len(pool))  # nothing chosen yet: no redundancy
    value = relevance.copy()
    chosen: list[int] = []
    for _ in range(min(wanted, len(pool))):
        ties = np.flatnonzero(value == value.max())
        best = int(ties[np.argmin(ids[ties])])
        if not chosen:
            redundancy = similarity[best].astype(np.float64)
        else:
            np.maximum(redundancy, similarity[best], out=redundancy)
        chosen.append(best)
        value = relevance - diversity * redundancy
        value[chosen] = -np.inf
    return [pool[i] for i in chosen]


# ids -> the groups a list may hold only so many of (``groups.capped``: culture, century); None: unknown
Groups = Callable[[int], Sequence[str | None]]


def share_cap(max_share: float, k: int) -> int:
    """How many works of one group a list of ``k`` may hold: ``max_share`` of it, at least one."""
    return max(1, int(max_share * k + 1e-9))


def broaden(ranked: Sequence[R], groups: Groups, k: int, wanted: int, cap: int) -> list[R]:
    """Bound every known group to ``cap`` works per page of ``k``: the first ``wanted``, pages in turn.

    Greedy, in the order given (score, or MMR's): a work whose culture or century already has
    ``cap`` works on its page is passed over and the page is filled from further down; an
    unknown group (None) is never capped. Each page draws from what earlier pages left, so
    page 1 is the same whether or not page 0 was asked for. When the pool runs out before a
    page is full, the passed-over works fill it in order: broadening never shortens a page,
    so the bound holds wherever enough other works were there to keep it.
    """
    pool = list(ranked)
    out: list[R] = []
    while len(out) < wanted and pool:
        size = min(k, wanted - len(out))
        counts: list[dict[str, int]] = []
        chosen: list[int] = []
        passed: list[int] = []
        for position, item in enumerate(pool):
            if len(chosen) == size:
                break
            keys = groups(item.id)
            while len(counts) < len(keys):
                counts.append({})
            if any(key is not None and counts[d].get(key, 0) >= cap for d, key in enumerate(keys)):
                passed.append(position)
                continue
            chosen.append(position)
            for d, key in enumerate(keys):
                if key is not None:
                    counts[d][key] = counts[d].get(key, 0) + 1
        chosen = sorted(chosen + passed[: size - len(chosen)])
        taken = set(chosen)
        out.extend(pool[i] for i in chosen)
        pool = [item for i, item in enumerate(pool) if i not in taken]
    return out
