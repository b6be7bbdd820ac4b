"""``asterism eval``: every method on every relevance notion, by id (leave-one-out) and by image.

Universe: the served works of the collection. Queries by id: every work with
at least one relevant other work under a notion, itself left out. Queries by
image: a sample of works re-encoded as an upload would be (half size, JPEG
q85), embedded through the upload path with the work left out of the
history inference; the metadata-text baseline cannot rank a bare picture.
"""

from __future__ import annotations

import dataclasses
import io
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from asterism.embed.base import AFFINITIES, Affinity
from asterism.eval import metrics
from asterism.eval.fields import VARIANT, held_out_lists
from asterism.eval.holdout import copies, leaks
from asterism.eval.methods import (
    Ask,
    Ranker,
    Universe,
    affinity_ranker,
    composite_ranker,
    random_ranker,
    text_ranker,
    vectors_for,
)
from asterism.eval.relevance import NOTIONS, relevant_sets
from asterism.recommend.query import Query
from asterism.recommend.service import Service
from asterism.recommend.start import Start

KS = (5, 10, 20)


@dataclass
class Report:
    queries: dict[str, int] = field(default_factory=dict)  # mode -> queries run
    scores: dict[str, dict[str, dict[str, dict[str, float]]]] = field(
        default_factory=dict
    )  # mode/notion/method/metric
    coverage: dict[str, float] = field(default_factory=dict)  # method -> catalogue coverage@10 (by id)
    diversity: dict[str, float] = field(default_factory=dict)  # method -> intra-list diversity@10
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # method -> p50/p95
    graph: dict[str, Any] = field(default_factory=dict)
    relevant: dict[str, int] = field(default_factory=dict)  # notion -> queries with a relevant set
    curves: dict[str, dict[str, list[list[float]]]] = field(
        default_factory=dict
    )  # notion/method -> [recall, precision] by k
    histograms: dict[str, dict[str, dict[str, list[float]]]] = field(
        default_factory=dict
    )  # notion/affinity -> pairs
    lists: dict[str, dict[str, dict[int, list[int]]]] = field(default_factory=dict)  # mode/method/query
    leaks: dict[str, dict[str, int]] = field(default_factory=dict)  # mode/method -> held-out works shown
    stand_ins: dict[str, str] = field(default_factory=dict)  # affinity -> model whose stored vector stood in
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "queries": self.queries, "relevant_queries": self.relevant, "scores": self.scores,
            "coverage@10": self.coverage, "diversity@10": self.diversity, "latency_ms": self.latency_ms,
            "graph": self.graph, "seconds": round(self.seconds, 1), "pr_curves": self.curves,
            "score_histograms": self.histograms, "held_out_shown": self.leaks, "stand_ins": self.stand_ins,
        }  # fmt: skip


HYBRID = "hybrid"


def rankers(service: Service, universe: Universe) -> dict[str, Ranker]:
    """The vector-only methods and baselines (the hybrid needs the whole start: see ``_hybrid``)."""
    chosen: dict[str, Ranker] = {str(a): affinity_ranker(universe, a) for a in AFFINITIES}
    chosen["composite"] = composite_ranker(universe)
    chosen["random"] = random_ranker(universe)
    chosen["metadata-text"] = text_ranker(universe, service.catalogue.records)
    return chosen


def _hybrid(service: Service, start: Start, ask: Ask, k: int) -> list[int]:
    """The recommender's ranking (vectors + graph links), default weights, before paging."""
    held = dataclasses.replace(start, exclude=start.exclude | ask.held_out)
    ranked = service.recommender.rank(held, Query(artwork_id=ask.work, k=min(k, 100)), limit=k).scored
    return [s.id for s in ranked if s.id not in ask.held_out][:k]


def _rank_all(
    service: Service, methods: dict[str, Ranker], start: Start, ask: Ask, k: int
) -> dict[str, list[int]]:
    return {
        name: _hybrid(service, start, ask, k) if name == HYBRID else methods[name](ask, k)
        for name in [*methods, HYBRID]
        if not (ask.by_image and name == "metadata-text")
    }


def _score(
    lists: dict[str, dict[int, list[int]]],
    relevant: dict[str, dict[int, set[int]]],
    notions: Iterable[str] = NOTIONS,
) -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for notion in notions:
        out[notion] = {}
        for method, ranked_by_query in lists.items():
            rows: dict[str, list[float]] = {
                name: [] for name in [*(f"recall@{k}" for k in KS), "mrr", "ndcg@10"]
            }
            for query, ranked in ranked_by_query.items():
                wanted = relevant[notion].get(query)
                if not wanted or not ranked:
                    continue
                for k in KS:
                    rows[f"recall@{k}"].append(metrics.recall_at_k(ranked, wanted, k))
                rows["mrr"].append(metrics.reciprocal_rank(ranked, wanted))
                rows["ndcg@10"].append(metrics.ndcg_at_k(ranked, wanted, 10))
            if rows["mrr"]:
                out[notion][method] = {name: float(np.mean(values)) for name, values in rows.items()}
    return out


def _curves(
    lists: dict[str, dict[int, list[int]]], relevant: dict[str, dict[int, set[int]]], k: int
) -> dict[str, dict[str, list[list[float]]]]:
    """Mean (recall@i, precision@i) for i = 1..k, per notion and method: a precision–recall curve."""
    out: dict[str, dict[str, list[list[float]]]] = {}
    for notion in NOTIONS:
        out[notion] = {}
        for method, ranked_by_query in lists.items():
            points = []
            for i in range(1, k + 1):
                recalls, precisions = [], []
                for query, ranked in ranked_by_query.items():
                    wanted = relevant[notion].get(query)
                    if wanted and ranked:
                        hits = len(wanted.intersection(ranked[:i]))
                        recalls.append(hits / len(wanted))
                        precisions.append(hits / i)
                if recalls:
                    points.append([float(np.mean(recalls)), float(np.mean(precisions))])
            if points:
                out[notion][method] = points
    return out


def _histograms(
    universe: Universe, relevant: dict[str, dict[int, set[int]]], seed: int, pairs: int = 2000
) -> dict[str, dict[str, dict[str, list[float]]]]:
    """Per notion and affinity: cosines of relevant pairs against random pairs (how well each separates)."""
    rng = np.random.default_rng(seed)
    out: dict[str, dict[str, dict[str, list[float]]]] = {}
    for notion, sets in relevant.items():
        linked = [(a, b) for a, others in sets.items() for b in others if a < b]
        if not linked:
            continue
        chosen = [linked[i] for i in rng.choice(len(linked), min(pairs, len(linked)), replace=False)]
        randoms = rng.integers(0, len(universe.ids), size=(len(chosen), 2))
        out[notion] = {}
        for affinity in AFFINITIES:
            matrix = universe.vectors[affinity]
            rows = [(universe.row(a), universe.row(b)) for a, b in chosen]
            related = [float(matrix[x] @ matrix[y]) for x, y in rows if x is not None and y is not None]
            unrelated = [float(matrix[x] @ matrix[y]) for x, y in randoms if x != y]
            out[notion][str(affinity)] = {"relevant": related, "random": unrelated}
    return out


def picture_start(service: Service, work: int, held: frozenset[int]) -> Start | None:
    """A work's picture as an upload would come, the work and its copies held out.

    An affinity served from imported vectors needs the upload embedded by the space's model; the
    work's own imported vector (the same picture through the same model) stands in for it and
    the report says so. ``None``: the work has no picture, or the space does not cover it.
    """
    artwork = service.catalogue.get(work)
    if artwork is None or artwork.image is None:
        return None
    stand_in = {a: v for a in service.starts.spaces if (v := service.searcher.vector(a, work)) is not None}
    if len(stand_in) < len(service.starts.spaces):
        return None
    picture = upload_bytes(service.picture(artwork))
    return service.starts.from_image(picture, ocr=False, exclude=held, stand_in=stand_in)


def upload_bytes(path: Any) -> bytes:
    with Image.open(path) as image:
        picture = image.convert("RGB")
        picture = picture.resize((max(1, picture.width // 2), max(1, picture.height // 2)))
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=85)
        return buffer.getvalue()


def evaluate(
    service: Service, *, by_image: int = 200, by_id: bool = True, k: int = 20, seed: int = 0
) -> Report:
    """Every method on every notion: by image (the headline) on up to ``by_image`` works, and by id."""
    started = time.perf_counter()
    catalogue = service.catalogue
    universe = Universe(catalogue.ids, vectors_for(catalogue.ids, dict(service.searcher.vectors)))
    relevant = relevant_sets(catalogue.records.values(), service.knowledge)
    held = copies(catalogue, universe, service.settings.recommend.near_duplicate)
    report = Report(relevant={notion: len(sets) for notion, sets in relevant.items()})
    methods = rankers(service, universe)
    queries = [int(i) for i in catalogue.ids if any(int(i) in relevant[n] for n in NOTIONS)]
    start_leaks = 0
    if by_image and service.models is not None:
        rng = np.random.default_rng(seed)
        sample = [q for q in queries if (a := catalogue.get(q)) is not None and a.image is not None]
        chosen = sorted(sample[i] for i in rng.choice(len(sample), min(by_image, len(sample)), replace=False))
        by_picture: dict[str, dict[int, list[int]]] = defaultdict(dict)
        start_leaks = 0
        for query_id in chosen:
            start = picture_start(service, query_id, held[query_id])
            if start is None:
                continue
            touched = held[query_id].intersection(
                [*start.neighbours, start.anchor]
            )  # history and graph anchor
            start_leaks += len(touched)
            ask = Ask(start.vectors, query_id, held[query_id], by_image=True)
            for name, ranked in _rank_all(service, methods, start, ask, k).items():
                by_picture[name][query_id] = ranked
        report.queries["image"] = len(by_picture.get(HYBRID, {}))
        report.stand_ins = {str(a): model for a, model in service.starts.spaces.items()}
        report.scores["image"] = _score(by_picture, relevant)
        report.lists["image"] = dict(by_picture)
    if by_id:
        id_lists: dict[str, dict[int, list[int]]] = defaultdict(dict)
        timings: dict[str, list[float]] = defaultdict(list)
        for query_id in queries:
            start = service.starts.from_id(query_id)
            ask = Ask(start.vectors, query_id, held[query_id])
            for name in [*methods, HYBRID]:
                began = time.perf_counter()
                ranked = _hybrid(service, start, ask, k) if name == HYBRID else methods[name](ask, k)
                timings[name].append(time.perf_counter() - began)
                id_lists[name][query_id] = ranked
        report.queries["id"] = len(queries)
        report.scores["id"] = _score(id_lists, relevant)
        per_notion = {n: [q for q in queries if q in relevant[n]] for n in NOTIONS}
        for notion, lists in held_out_lists(service, universe, per_notion, held, k).items():
            scored = _score({VARIANT: lists}, {notion: relevant[notion]}, (notion,))
            report.scores["id"][notion].update(scored[notion])
        report.lists["id"] = dict(id_lists)
        report.curves = _curves(id_lists, relevant, k)
        report.histograms = _histograms(universe, relevant, seed)
        for name, lists in id_lists.items():
            report.coverage[name] = metrics.coverage(lists.values(), len(catalogue), 10)
            report.diversity[name] = _diversity(universe, lists.values())
            values = np.asarray(timings[name]) * 1000
            report.latency_ms[name] = {
                "p50": float(np.percentile(values, 50)),
                "p95": float(np.percentile(values, 95)),
            }
    report.leaks = {mode: leaks(lists, held) for mode, lists in report.lists.items()}
    if "image" in report.leaks:
        report.leaks["image"]["history neighbours and anchor"] = start_leaks
    report.graph = service.adjacency.stats()
    report.seconds = time.perf_counter() - started
    return report


def _diversity(universe: Universe, lists: Iterable[list[int]]) -> float:
    """Mean intra-list diversity@10 over formal + conceptual vectors."""
    values = []
    for ranked in lists:
        rows = [r for i in ranked[:10] if (r := universe.row(i)) is not None]
        if not rows:
            continue
        matrix = np.concatenate(
            [universe.vectors[a][rows] for a in (Affinity.FORMAL, Affinity.CONCEPTUAL)], axis=1
        )
        values.append(metrics.intra_list_diversity(matrix / np.sqrt(2)))
    return float(np.mean(values)) if values else 0.0
