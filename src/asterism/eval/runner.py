"""``asterism eval``: every method on every relevance notion, by id (leave-one-out) and by image.

Universe: the served works of the collection. Queries by id: every work with
at least one relevant other work under a notion, itself left out. Queries by
image: a sample of works re-encoded as an upload would be (half size, JPEG
q85), embedded through the upload path with the work left out of the
history inference; the metadata-text baseline cannot rank a bare picture.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from asterism.embed.base import AFFINITIES, Affinity
from asterism.eval import metrics
from asterism.eval.methods import (
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
    seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "queries": self.queries, "relevant_queries": self.relevant, "scores": self.scores,
            "coverage@10": self.coverage, "diversity@10": self.diversity, "latency_ms": self.latency_ms,
            "graph": self.graph, "seconds": round(self.seconds, 1), "pr_curves": self.curves,
            "score_histograms": self.histograms,
        }  # fmt: skip


HYBRID = "hybrid"


def rankers(service: Service, universe: Universe) -> dict[str, Ranker]:
    """The vector-only methods and baselines (the hybrid needs the whole start: see ``_hybrid``)."""
    chosen: dict[str, Ranker] = {str(a): affinity_ranker(universe, a) for a in AFFINITIES}
    chosen["composite"] = composite_ranker(universe)
    chosen["random"] = random_ranker(universe)
    chosen["metadata-text"] = text_ranker(universe, service.catalogue.records)
    return chosen


def _hybrid(service: Service, start: Start, exclude: int, k: int) -> list[int]:
    """The recommender's ranking (vectors + graph links), default weights, before paging."""
    ranked = service.recommender.rank(start, Query(artwork_id=exclude, k=min(k, 100)), limit=k + 1).scored
    return [s.id for s in ranked if s.id != exclude][:k]


def _score(
    lists: dict[str, dict[int, list[int]]], relevant: dict[str, dict[int, set[int]]]
) -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for notion in NOTIONS:
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


def upload_bytes(path: Any) -> bytes:
    with Image.open(path) as image:
        picture = image.convert("RGB")
        picture = picture.resize((max(1, picture.width // 2), max(1, picture.height // 2)))
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=85)
        return buffer.getvalue()


def evaluate(service: Service, *, by_image: int = 40, k: int = 20, seed: int = 0) -> Report:
    started = time.perf_counter()
    catalogue = service.catalogue
    universe = Universe(catalogue.ids, vectors_for(catalogue.ids, dict(service.searcher.vectors)))
    relevant = relevant_sets(catalogue.records.values(), service.knowledge)
    report = Report(relevant={notion: len(sets) for notion, sets in relevant.items()})
    methods = rankers(service, universe)
    names = [*methods, HYBRID]
    queries = [int(i) for i in catalogue.ids if any(int(i) in relevant[n] for n in NOTIONS)]
    by_id: dict[str, dict[int, list[int]]] = {name: {} for name in names}
    timings: dict[str, list[float]] = {name: [] for name in names}
    for query_id in queries:
        start = service.starts.from_id(query_id)
        for name in names:
            began = time.perf_counter()
            if name == HYBRID:
                ranked = _hybrid(service, start, query_id, k)
            else:
                ranked = methods[name](start.vectors, query_id, k)
            timings[name].append(time.perf_counter() - began)
            by_id[name][query_id] = ranked
    report.queries["id"] = len(queries)
    report.scores["id"] = _score(by_id, relevant)
    report.curves = _curves(by_id, relevant, k)
    report.histograms = _histograms(universe, relevant, seed)
    for name, lists in by_id.items():
        report.coverage[name] = metrics.coverage(lists.values(), len(catalogue), 10)
        rows = [universe.row(i) for ranked in lists.values() for i in ranked[:10]]
        diversity = []
        for ranked in lists.values():
            picked = [universe.row(i) for i in ranked[:10]]
            matrix = np.concatenate(
                [
                    universe.vectors[a][[p for p in picked if p is not None]]
                    for a in (Affinity.FORMAL, Affinity.CONCEPTUAL)
                ],
                axis=1,
            ) / np.sqrt(2)
            diversity.append(metrics.intra_list_diversity(matrix))
        report.diversity[name] = float(np.mean(diversity)) if diversity and rows else 0.0
        values = np.asarray(timings[name]) * 1000
        report.latency_ms[name] = {
            "p50": float(np.percentile(values, 50)),
            "p95": float(np.percentile(values, 95)),
        }
    if by_image and service.models is not None:
        rng = np.random.default_rng(seed)
        sample = [q for q in queries if (a := catalogue.get(q)) is not None and a.image is not None]
        chosen = [sample[i] for i in rng.choice(len(sample), min(by_image, len(sample)), replace=False)]
        by_picture: dict[str, dict[int, list[int]]] = {name: {} for name in names if name != "metadata-text"}
        for query_id in chosen:
            artwork = catalogue.get(query_id)
            assert artwork is not None and artwork.image is not None
            start = service.starts.from_image(
                upload_bytes(service.settings.paths.file(artwork.image.path)), ocr=False, exclude=[query_id]
            )
            for name in by_picture:
                ranked = (
                    _hybrid(service, start, query_id, k)
                    if name == HYBRID
                    else methods[name](start.vectors, query_id, k)
                )
                by_picture[name][query_id] = ranked
        report.queries["image"] = len(chosen)
        report.scores["image"] = _score(by_picture, relevant)
    report.graph = service.adjacency.stats()
    report.seconds = time.perf_counter() - started
    return report
