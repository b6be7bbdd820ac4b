"""What the dearest recommendation the API accepts costs at 100k works, before and after bounding it.

    cd bench && ../.venv/bin/python bounded_work.py [--size 100000] [--copies 0.1] [--starts 3]

The collection is ``recommend.py``'s synthetic one (clustered unit vectors with the real
dimensions, HNSW indexes as the build makes them, top-20 edges per work per affinity), with
``--copies`` of the works' formal vectors made near copies of others so duplicate removal has
copies to drop. The request is the worst the API schema allows: k=100, page=50 (k·(page+1) =
5,100 results), diversity=1, duplicate removal on (it always is).

* before: the recommender as it was, the pairwise Python loops of duplicate removal and MMR
  (copied below verbatim). They do not finish in reasonable time at this depth, so each runs
  for ``--budget`` CPU seconds and the rest is extrapolated from the steps it did, by the cost
  model of its loops (stated in the output as an estimate);
* after: the same request is refused (``TooMuchWork``, HTTP 400) before any work; the worst
  request the default caps allow (k·(page+1) = ``recommend.max_depth``) runs through the real
  ``Recommender.recommend``, stages timed by the request's own ``Deadline`` on a CPU clock;
  and, for scale, the vectorised code at the full 5,100 with the caps lifted.

Times are CPU seconds of this process (``time.process_time``: all its threads, so BLAS threads
count) — the issue's rule is "no request costs more than 2 s of CPU" — and wall seconds beside.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from asterism.config import RecommendSettings
from asterism.embed.base import AFFINITIES, Affinity
from asterism.embed.formal import layout_for
from asterism.recommend import diversify
from asterism.recommend.engine import Recommender
from asterism.recommend.query import Deadline, Query, TooMuchWork
from asterism.recommend.start import Start
from recommend import synthetic_recommender, synthetic_stores

WORST = {"k": 100, "page": 50, "diversity": 1.0}  # the API schema's limits (api/schemas.py Options)
Row = dict[str, Any]


class Budget:
    """Stops a legacy loop after ``seconds`` of CPU, keeping each step's CPU time for the extrapolation."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.began = seconds, time.process_time()
        self.steps: list[tuple[float, float]] = []

    def spent(self) -> bool:
        return time.process_time() - self.began >= self.seconds


def legacy_without_duplicates(
    ranked: Sequence[Any], formal: Any, start_formal: Any, bar: float, wanted: int, budget: Budget
) -> tuple[list[Any], bool]:
    """The pre-vectorised loop, verbatim but for the budget: (kept, finished)."""
    kept: list[Any] = []
    kept_vectors: list[Any] = []
    window = list(ranked[: max(wanted * 4, wanted + 20)])
    found, rows = formal([s.id for s in window])
    for item, ok, row in zip(window, found, rows, strict=True):
        step = time.process_time()
        if ok and start_formal is not None and float(row @ start_formal) >= bar:
            continue
        if ok and any(float(row @ other) >= bar for other in kept_vectors):
            continue
        kept.append(item)
        if ok:
            kept_vectors.append(row)
        budget.steps.append((len(kept_vectors), time.process_time() - step))
        if len(kept) >= wanted:
            break
        if budget.spent():
            return kept, False
    return kept, True


def legacy_mmr(
    ranked: Sequence[Any],
    lookups: Mapping[Affinity, Callable[[list[int]], Any]],
    weights: Mapping[Affinity, float],
    wanted: int,
    diversity: float,
    budget: Budget,
) -> tuple[list[Any], bool]:
    """The pre-vectorised MMR, verbatim but for the budget: (chosen, finished)."""
    pool = list(ranked[: max(wanted * 5, wanted)])
    if diversity <= 0 or len(pool) <= 1:
        return pool[:wanted], True
    blocks = []
    for affinity in AFFINITIES:
        share = weights.get(affinity, 0.0)
        if affinity not in lookups or share <= 0:
            continue
        _, rows = lookups[affinity]([s.id for s in pool])
        blocks.append(np.sqrt(share) * rows)
    matrix = np.concatenate(blocks, axis=1)
    similarity = matrix @ matrix.T
    budget.steps.append((-1, time.process_time() - budget.began))  # the n×n product, before the picks
    chosen: list[int] = []
    remaining = list(range(len(pool)))
    while remaining and len(chosen) < wanted:
        step = time.process_time()

        def value(i: int) -> tuple[float, int]:
            redundancy = max((float(similarity[i, j]) for j in chosen), default=0.0)
            return ((1 - diversity) * pool[i].total - diversity * redundancy, -pool[i].id)

        best = max(remaining, key=value)
        chosen.append(best)
        remaining.remove(best)
        budget.steps.append((len(chosen) - 1, time.process_time() - step))
        if budget.spent():
            return [pool[i] for i in chosen], False
    return [pool[i] for i in chosen], True


def fit(features: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Least-squares non-negative-ish cost coefficients of a loop's steps (clipped at 0)."""
    coefficients = np.linalg.lstsq(features, seconds, rcond=None)[0]
    return np.clip(coefficients, 0.0, None)


def estimate_duplicates(budget: Budget, kept_final: int) -> float:
    """Seconds for the whole loop: each kept work is compared with every earlier kept one (a + b·kept).

    Dropped works stop at their first copy, so counting every later step as a full scan is an
    upper estimate when only a tenth are copies.
    """
    done = np.asarray(budget.steps, dtype=np.float64)
    a, b = fit(np.column_stack([np.ones(len(done)), done[:, 0]]), done[:, 1])
    spent = float(done[:, 1].sum())
    rest = np.arange(int(done[-1, 0]) + 1, kept_final, dtype=np.float64)
    return spent + float((a + b * rest).sum())


def estimate_mmr(budget: Budget, pool: int, picks: int) -> float:
    """Seconds for the whole loop: pick t reads every chosen pair for each remaining work, a·(P−t) + b·(P−t)·t."""
    product = budget.steps[0][1]
    done = np.asarray(budget.steps[1:], dtype=np.float64)
    t = done[:, 0]
    a, b = fit(np.column_stack([pool - t, (pool - t) * t]), done[:, 1])
    rest = np.arange(len(done), picks, dtype=np.float64)
    return product + float(done[:, 1].sum()) + float((a * (pool - rest) + b * (pool - rest) * rest).sum())


def legacy(recommender: Recommender, start: Start, query: Query, seconds: float) -> Row:
    """The old ``Recommender.recommend``: the same ranking and explanation, the pairwise loops between."""
    wanted = query.depth
    clock, wall = time.process_time(), time.perf_counter()
    ranking = recommender.rank(start, query, limit=max(wanted * 5, wanted + 50))
    row: Row = {"rank": time.process_time() - clock}
    duplicates = Budget(seconds)
    unique, finished = legacy_without_duplicates(
        ranking.scored, recommender.explainer.formal, start.side.formal,
        recommender.settings.near_duplicate, wanted * (3 if query.diversity else 1), duplicates,
    )  # fmt: skip
    if finished:
        row["duplicates"] = time.process_time() - duplicates.began
    else:  # the vectorised result is the same list (tests/recommend/test_diversify.py): MMR gets its real pool
        unique = diversify.without_duplicates(
            ranking.scored, recommender.explainer.formal, start.side.formal,
            recommender.settings.near_duplicate, wanted * (3 if query.diversity else 1),
        )  # fmt: skip
        row["duplicates"] = estimate_duplicates(duplicates, len(unique))
        row["estimated"] = True
    lookups = {a: store.get for a, store in recommender.searcher.vectors.items()}
    picking = Budget(seconds)
    ordered, finished = legacy_mmr(unique, lookups, ranking.weights, wanted, query.diversity, picking)
    pool = min(len(unique), max(wanted * 5, wanted))
    if finished:
        row["diversity"] = time.process_time() - picking.began
    else:
        row["diversity"] = estimate_mmr(picking, pool, min(wanted, pool))
        row["estimated"] = True
    clock = time.process_time()
    page = ordered[query.page * query.k : wanted] or unique[query.page * query.k : wanted]
    recommender.explainer.results(start.side, page, query.page * query.k, recommender.calibration(start))
    row["explanation"] = time.process_time() - clock
    row["cpu"] = row["rank"] + row["duplicates"] + row["diversity"] + row["explanation"]
    row["wall"] = math.nan if row.get("estimated") else time.perf_counter() - wall  # cut short: no figure
    return row


def vectorised(recommender: Recommender, start: Start, query: Query) -> Row:
    """``Recommender.recommend`` as served, its stages timed by the request's deadline on a CPU clock."""
    deadline = Deadline(math.inf, clock=time.process_time)
    wall = time.perf_counter()
    page = recommender.recommend(start, query, deadline)
    row: Row = {"wall": time.perf_counter() - wall, "cpu": deadline.elapsed(), "results": len(page.results)}
    marks = dict(deadline.marks)
    row["rank"] = marks["duplicates"]
    row["duplicates"] = marks["diversity"] - marks["duplicates"]
    row["diversity"] = marks["explanation"] - marks["diversity"]
    row["explanation"] = row["cpu"] - marks["explanation"]
    return row


def worst(rows: list[Row]) -> Row:
    return max(rows, key=lambda r: r["cpu"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--copies", type=float, default=0.1, help="share of works that are near copies")
    parser.add_argument("--starts", type=int, default=3, help="starts timed after (the worst is shown)")
    parser.add_argument(
        "--budget", type=float, default=60.0, help="CPU seconds per legacy loop, then extrapolate"
    )
    args = parser.parse_args()
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}")
    dims = {Affinity.FORMAL: layout_for(256).dim, Affinity.CONCEPTUAL: 384, Affinity.HISTORICAL: 78}
    figures: dict[str, float] = {}
    began = time.perf_counter()
    ids, searcher, edges = synthetic_stores(args.size, dims, figures, copies=args.copies)
    rng = np.random.default_rng(0)
    capped, starts = synthetic_recommender(RecommendSettings(), ids, searcher, edges, dims, rng)
    lifted = Recommender(
        RecommendSettings(max_depth=5100, max_candidates=25_500, deadline=1e9), searcher=searcher,
        adjacency=capped.adjacency, catalogue=capped.catalogue, explainer=capped.explainer,
    )  # fmt: skip
    print(f"synthetic {args.size:,} works built in {time.perf_counter() - began:.0f} s")
    chosen = [int(i) for i in rng.choice(ids, args.starts, replace=False)]
    depth = capped.settings.max_depth
    allowed = {"k": 100, "page": depth // 100 - 1, "diversity": 1.0}  # the deepest the default caps allow
    table: list[tuple[str, Row]] = []

    first = starts.from_id(chosen[0])
    table.append(
        (
            "before: worst API request, pairwise loops",
            legacy(lifted, first, Query(artwork_id=chosen[0], **WORST), args.budget),
        )
    )
    clock = time.process_time()
    try:
        capped.recommend(first, Query(artwork_id=chosen[0], **WORST))
        raise SystemExit("the worst API request was not refused")
    except TooMuchWork as exc:
        refused = {"cpu": time.process_time() - clock, "message": str(exc)}
    table.append((f"before: k·(page+1) = {depth}, pairwise loops", legacy(lifted, first, Query(artwork_id=chosen[0], **allowed), args.budget)))  # fmt: skip
    after = [vectorised(capped, starts.from_id(i), Query(artwork_id=i, **allowed)) for i in chosen]
    table.append(
        (f"after: k·(page+1) = {depth} (worst allowed), worst of {len(chosen)} starts", worst(after))
    )
    full = [vectorised(lifted, starts.from_id(i), Query(artwork_id=i, **WORST)) for i in chosen]
    table.append((f"after, caps lifted: worst API request, worst of {len(chosen)} starts", worst(full)))

    print("\nCPU seconds per stage (rank = search + scoring + graph + ranking); * = extrapolated")
    print(
        "| run | rank | duplicates | diversity | explanation | total CPU s | wall s |\n|---|---|---|---|---|---|---|"
    )
    for name, row in table:
        mark = "*" if row.get("estimated") else ""
        cells = " | ".join(f"{row[s]:.3f}" for s in ("rank", "duplicates", "diversity", "explanation"))
        wall = "–" if math.isnan(row["wall"]) else f"{row['wall']:.2f}"
        print(f"| {name} | {cells} | {row['cpu']:.2f}{mark} | {wall} |")
    print(
        f"\nafter: the worst API request (k=100, page=50, diversity=1) is refused in {1000 * refused['cpu']:.2f} ms CPU:"
    )
    print(f"  HTTP 400: {refused['message']}")
    for name, value in figures.items():
        print(f"{name}: {value:,.1f}")


if __name__ == "__main__":
    main()
